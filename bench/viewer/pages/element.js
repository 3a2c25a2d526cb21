// <licence-viewer> from the shipped bundle (/elements/sidian.js, its lazy pdf.js chunk and worker):
// time from setting `src` to page 1's canvas holding its picture, and to the `verified` event.
window.benchRun = async (url) => {
  await customElements.whenDefined('licence-viewer');
  const el = document.getElementById('viewer');
  const result = {};
  let t0 = 0;
  const firstPage = new Promise((resolve) => {
    // PdfViewController sets the canvas size and draws the rendered page in one task; the observer's
    // callback runs right after that task, with the picture on the canvas.
    const mo = new MutationObserver(() => {
      const c = el.shadowRoot.querySelector('.pdf-page[data-index="0"] canvas');
      if (c && c.width > 0) {
        result.firstPageMs = performance.now() - t0;
        result.canvas = `${c.width}x${c.height}`;
        mo.disconnect();
        resolve();
      }
    });
    mo.observe(el.shadowRoot, { subtree: true, attributes: true, attributeFilter: ['width'] });
  });
  const verified = new Promise((resolve) => {
    el.addEventListener(
      'verified',
      (e) => {
        result.verdictMs = performance.now() - t0;
        result.verdict = e.detail.verdict;
        resolve();
      },
      { once: true },
    );
  });
  t0 = performance.now();
  el.src = url;
  await Promise.all([firstPage, verified]);
  // performance marks, if a diagnostic build of the elements sets any
  const marks = performance.getEntriesByType('mark').map((m) => `${m.name}@${(m.startTime - t0).toFixed(0)}`);
  if (marks.length) result.marks = marks.join(' ');
  return result;
};
