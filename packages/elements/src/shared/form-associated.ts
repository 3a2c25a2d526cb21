/**
 * Form association through ElementInternals (after Material Web's `mixinFormAssociated`): the
 * element's value and validity go into the surrounding <form>; reset and restore (back/forward
 * navigation, autofill) call back into the element.
 *
 * An element using it implements `formValue()`, `formValidity()`, `formReset()` and
 * `formRestore()`, and calls `updateForm()` whenever its value or validity may have changed.
 */
import type { LitElement } from 'lit';
import { property } from 'lit/decorators.js';

/** Validity as ElementInternals takes it: flags, a message, and the element to focus. */
export interface FormValidity {
  flags: ValidityStateFlags;
  message: string;
  anchor?: HTMLElement;
}

export type FormValue = File | string | FormData | null;

export interface FormAssociatedElement {
  name: string;
  required: boolean;
  disabled: boolean;
  readonly form: HTMLFormElement | null;
  readonly validity: ValidityState;
  readonly validationMessage: string;
  readonly willValidate: boolean;
  checkValidity(): boolean;
  reportValidity(): boolean;
  updateForm(): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor<T> = abstract new (...args: any[]) => T;

/**
 * The protected face of the mixin as a named type: declaration emit (the published .d.ts) cannot
 * describe an anonymous class with protected members (TS4094), so FormAssociated returns this type.
 */
export declare abstract class FormAssociatedMembers implements FormAssociatedElement {
  static formAssociated: boolean;
  name: string;
  required: boolean;
  disabled: boolean;
  protected readonly internals: ElementInternals;
  protected fieldsetDisabled: boolean;
  protected abstract formValue(): FormValue;
  protected abstract formValidity(): FormValidity;
  protected abstract formReset(): void;
  protected abstract formRestore(state: FormValue): void;
  get form(): HTMLFormElement | null;
  get validity(): ValidityState;
  get validationMessage(): string;
  get willValidate(): boolean;
  checkValidity(): boolean;
  reportValidity(): boolean;
  updateForm(): void;
  formResetCallback(): void;
  formStateRestoreCallback(state: FormValue): void;
  formDisabledCallback(disabled: boolean): void;
  get isDisabled(): boolean;
}

export function FormAssociated<B extends Constructor<LitElement>>(
  Base: B,
): Constructor<FormAssociatedMembers> & Pick<typeof FormAssociatedMembers, 'formAssociated'> & B {
  abstract class FormAssociatedElementImpl extends Base implements FormAssociatedElement {
    /** @internal */
    static formAssociated = true;

    /** The form field name: the value is submitted under it. */
    @property({ reflect: true }) name = '';
    /** An empty value makes the form invalid. */
    @property({ type: Boolean, reflect: true }) required = false;
    /** Disabled: not editable, not submitted. Also set when an enclosing <fieldset> is disabled. */
    @property({ type: Boolean, reflect: true }) disabled = false;

    protected readonly internals: ElementInternals;
    /** Disabled by an enclosing fieldset (formDisabledCallback), kept apart from our own attribute. */
    protected fieldsetDisabled = false;

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(...args: any[]) {
      super(...args);
      this.internals = this.attachInternals();
    }

    /** The value submitted with the form (null: nothing). */
    protected abstract formValue(): FormValue;
    /** Current validity (empty flags: valid). */
    protected abstract formValidity(): FormValidity;
    /** Back to the initial state (form reset). */
    protected abstract formReset(): void;
    /** Restore a value the browser kept (a File or string as given to setFormValue). */
    protected abstract formRestore(state: FormValue): void;

    get form(): HTMLFormElement | null {
      return this.internals.form;
    }
    get validity(): ValidityState {
      return this.internals.validity;
    }
    get validationMessage(): string {
      return this.internals.validationMessage;
    }
    get willValidate(): boolean {
      return this.internals.willValidate;
    }
    checkValidity(): boolean {
      return this.internals.checkValidity();
    }
    reportValidity(): boolean {
      return this.internals.reportValidity();
    }

    /**
     * Pushes the current value and validity into ElementInternals (the element calls it itself).
     * @internal
     */
    updateForm(): void {
      const value = this.disabled ? null : this.formValue();
      this.internals.setFormValue(value);
      const v = this.formValidity();
      if (Object.values(v.flags).some(Boolean)) this.internals.setValidity(v.flags, v.message, v.anchor);
      else this.internals.setValidity({});
    }

    override updated(changed: Map<PropertyKey, unknown>): void {
      super.updated(changed);
      if (changed.has('required') || changed.has('disabled')) this.updateForm();
    }

    override firstUpdated(changed: Map<PropertyKey, unknown>): void {
      super.firstUpdated(changed);
      this.updateForm();
    }

    /**
     * The browser's form-reset callback.
     * @internal
     */
    formResetCallback(): void {
      this.formReset();
      this.updateForm();
    }

    /**
     * The browser's state-restore callback (back/forward, autofill).
     * @internal
     */
    formStateRestoreCallback(state: FormValue): void {
      this.formRestore(state);
      this.updateForm();
    }

    /**
     * The browser's callback for an enclosing fieldset's disabled state.
     * @internal
     */
    formDisabledCallback(disabled: boolean): void {
      this.fieldsetDisabled = disabled;
      this.requestUpdate();
    }

    /**
     * Own `disabled` or disabled by a fieldset.
     * @internal
     */
    get isDisabled(): boolean {
      return this.disabled || this.fieldsetDisabled;
    }
  }
  // the same class, described by its named type (protected members included)
  return FormAssociatedElementImpl as unknown as Constructor<FormAssociatedMembers> &
    Pick<typeof FormAssociatedMembers, 'formAssociated'> &
    B;
}
