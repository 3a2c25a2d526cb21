import { html, LitElement } from 'lit';
import { customElement } from 'lit/decorators.js';
import { expect } from '../test-support/expect';
import { SidianElement } from './base';
import { FormAssociated, type FormValidity, type FormValue } from './form-associated';
import { LocalizeController, resolveLocale } from './localize';
import { PageWorker } from './page-worker';
import { PdfViewController } from './pdf-view';
import { pdfViewStyles } from './pdf-view.styles';
import { baseStyles } from './styles';
import { cleanup, fixture, loadFixturePdf, until } from '../test-support/helpers';
import { afterEach, describe, it } from '../test-support/mocha';

const strings = {
  'zh-CN': { hello: '你好', pages: (n: number) => `共 ${n} 页` },
  en: { hello: 'Hello', pages: (n: number) => `${n} pages` },
};

@customElement('test-i18n')
class TestI18n extends SidianElement {
  t = new LocalizeController(this, strings);
  override render() {
    return html`<p>${this.t.term('hello')} ${this.t.term('pages', 3)}</p>`;
  }
}

@customElement('test-form')
class TestForm extends FormAssociated(SidianElement) {
  value = '';
  protected formValue(): FormValue {
    return this.value || null;
  }
  protected formValidity(): FormValidity {
    return this.required && !this.value ? { flags: { valueMissing: true }, message: 'empty' } : { flags: {}, message: '' };
  }
  protected formReset(): void {
    this.value = '';
  }
  protected formRestore(state: FormValue): void {
    this.value = typeof state === 'string' ? state : '';
  }
}

@customElement('test-pdf-view')
class TestPdfView extends LitElement {
  static override styles = [baseStyles, pdfViewStyles];
  view = new PdfViewController(this);
  override render() {
    return html`${this.view.renderPages('pages', (i) => html`<span class="overlay" data-page=${i}></span>`)}`;
  }
}

describe('shared', () => {
  afterEach(cleanup);

  it('localises: zh-CN by default, en from the element, an ancestor or the document', async () => {
    expect(resolveLocale(undefined)).toBe('zh-CN');
    expect(resolveLocale('en-GB')).toBe('en');
    expect(resolveLocale('zh-Hant')).toBe('zh-CN');
    const el = await fixture<TestI18n>('<test-i18n></test-i18n>');
    expect(el.shadowRoot!.textContent).toContain('你好 共 3 页');
    el.lang = 'en';
    await el.updateComplete;
    expect(el.shadowRoot!.textContent).toContain('Hello 3 pages');
    el.lang = '';
    document.documentElement.lang = 'en';
    await until(() => el.shadowRoot!.textContent!.includes('Hello'), 'document lang');
    document.documentElement.lang = '';
  });

  it('form association: value, validity, reset and disabled fieldset', async () => {
    const form = await fixture<HTMLFormElement>('<form><fieldset><test-form name="f" required></test-form></fieldset></form>');
    const el = form.querySelector<TestForm>('test-form')!;
    await el.updateComplete;
    expect(el.form).toBe(form);
    expect(el.checkValidity()).toBe(false);
    expect(el.validity.valueMissing).toBe(true);
    expect(el.validationMessage).toBe('empty');
    el.value = 'x';
    el.updateForm();
    expect(el.checkValidity()).toBe(true);
    expect(new FormData(form).get('f')).toBe('x');
    form.reset();
    expect(el.value).toBe('');
    expect(new FormData(form).get('f')).toBe(null);
    form.querySelector('fieldset')!.disabled = true;
    await el.updateComplete;
    expect(el.isDisabled).toBe(true);
  });

  it('pdf view: fits the width, renders only pages in view, zooms and navigates', async () => {
    const el = await fixture<TestPdfView>('<test-pdf-view style="width:500px;--sidian-viewer-height:300px"></test-pdf-view>');
    await el.view.open(await loadFixturePdf('five-pages'));
    await el.updateComplete;
    await el.view.rendered();
    expect(el.view.pages.length).toBe(5);
    const pages = el.shadowRoot!.querySelectorAll<HTMLElement>('.pdf-page');
    expect(pages.length).toBe(5);
    // fit width: the scroller's inner width less 2 × 12 px padding
    const scroller = el.shadowRoot!.querySelector<HTMLElement>('.pdf-scroller')!;
    const fit = scroller.clientWidth - 24;
    expect(fit).toBeGreaterThan(440);
    expect(pages[0]!.getBoundingClientRect().width).toBeCloseTo(fit, 0.5);
    const canvases = [...el.shadowRoot!.querySelectorAll('canvas')];
    // HiDPI: the bitmap has devicePixelRatio × the CSS size
    expect(canvases[0]!.width).toBeCloseTo(fit * devicePixelRatio, 1);
    // page 5 is far below a 300 px viewport: not rendered
    expect(canvases[4]!.width).toBe(0);
    el.view.goToPage(5, 'instant');
    await until(() => canvases[4]!.width > 0, 'page 5 rendered');
    expect(el.view.currentPage).toBe(5);
    el.view.setZoom(2);
    await el.updateComplete;
    expect(pages[4]!.getBoundingClientRect().width).toBeCloseTo(fit * 2, 1);
    await el.view.rendered();
    expect(canvases[4]!.width).toBeCloseTo(fit * 2 * devicePixelRatio, 2);
    el.style.width = '300px';
    await until(() => Math.abs(pages[4]!.getBoundingClientRect().width - (scroller.clientWidth - 24) * 2) < 1, 'refit');
    expect(el.shadowRoot!.querySelectorAll('.overlay').length).toBe(5);
  });

  it('pdf view: the column has its full height while page 1 is drawn, and any page can be reached at once', async () => {
    const el = await fixture<TestPdfView>('<test-pdf-view style="width:500px;--sidian-viewer-height:300px"></test-pdf-view>');
    const opening = el.view.open(await loadFixturePdf('five-pages'));
    await until(() => el.view.state === 'ready', 'ready');
    await el.updateComplete;
    const scroller = el.shadowRoot!.querySelector<HTMLElement>('.pdf-scroller')!;
    const height = scroller.scrollHeight;
    // five pages of one size, 12 px apart
    const pageHeight = el.shadowRoot!.querySelector<HTMLElement>('.pdf-page')!.offsetHeight;
    expect(height).toBeGreaterThan(5 * (pageHeight + 12));
    el.view.goToPage(4, 'instant');
    await until(() => el.view.currentPage === 4, 'page 4');
    const page4 = el.shadowRoot!.querySelector<HTMLElement>('.pdf-page[data-index="3"]')!;
    expect(scroller.scrollTop).toBeCloseTo(page4.offsetTop - 12, 1);
    await opening;
    expect(el.shadowRoot!.querySelectorAll('.pdf-page').length).toBe(5);
    expect(scroller.scrollHeight).toBeCloseTo(height, 1);
    await until(() => el.shadowRoot!.querySelectorAll('canvas')[3]!.width > 0, 'page 4 drawn');
  });

  it('page worker: one that cannot load is marked broken, hands its jobs back and is not started again until reconfigured', async () => {
    let started = 0;
    let broken = 0;
    const replies: unknown[] = [];
    const pw = new PageWorker<unknown>(
      (url) => {
        started++;
        return new Worker(url ?? '/no-such-worker.js', { type: 'module' });
      },
      (r) => replies.push(r),
      () => broken++,
    );
    const w = pw.get();
    expect(w).toBeTruthy();
    expect(pw.get()).toBe(w);
    await until(() => broken === 1, 'the load error');
    expect(pw.get()).toBe(undefined);
    expect(started).toBe(1);
    // a working worker, once configured: it answers
    const echo = URL.createObjectURL(new Blob(['onmessage = (e) => postMessage(e.data * 2);'], { type: 'text/javascript' }));
    pw.configure(echo);
    pw.get()!.postMessage(21);
    await until(() => replies.length === 1, 'the reply');
    expect(replies[0]).toBe(42);
    expect([started, broken]).toEqual([2, 1]);
  });
});

