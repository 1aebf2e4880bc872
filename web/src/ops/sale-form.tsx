import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../shared/api';
import { ErrorNotice } from '../shared/components';
import { formatMoney } from '../shared/format';
import { serverClock } from '../shared/server-clock';
import type { ErrorDetail, Sale } from '@sellout/contract';
import { checkSaleForm, EDITABLE_FIELDS, FieldErrors, fieldErrorsFromDetails, SaleField, SaleFormValues } from './sale-form-rules';

interface FieldProps {
  field: SaleField;
  label: string;
  hint?: string;
  errors: FieldErrors;
  children: (attributes: { id: string; name: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ComponentChildren;
}

function Field(props: FieldProps) {
  const id = `sale-${props.field}`;
  const error = props.errors[props.field];
  const describedBy = [props.hint ? `${id}-hint` : undefined, error ? `${id}-error` : undefined].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children({ id, name: props.field, 'aria-invalid': error !== undefined, 'aria-describedby': describedBy })}
      {props.hint ? (
        <p id={`${id}-hint`} class="field-hint">
          {props.hint}
        </p>
      ) : null}
      {error ? (
        <p id={`${id}-error`} class="field-error" data-testid={`error-${props.field}`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export interface SaleFormProps {
  mode: 'create' | 'edit';
  initial: SaleFormValues;
  /** Sends the body; throws ApiError. */
  submit: (body: Record<string, unknown>) => Promise<Sale>;
  onSaved: (sale: Sale) => void;
  /** Edit only: the sale is locked and the form is read-only. */
  locked?: boolean;
  /**
   * Edit only: the sale as it is now. Fields this form cannot change (stock, say, which has its own
   * control) show it, so they follow changes made elsewhere without a reload.
   */
  current?: SaleFormValues;
}

/** Create or edit a sale: checks as the HTTP contract (README) does before sending, then shows the server's answer by field. */
export function SaleForm(props: SaleFormProps) {
  const [values, setValues] = useState(props.initial);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [otherErrors, setOtherErrors] = useState<ErrorDetail[]>([]);
  const [requestError, setRequestError] = useState<unknown>(undefined);
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<string | undefined>(undefined);
  const creating = props.mode === 'create';
  const disabled = (field: SaleField) => props.locked === true || (!creating && !EDITABLE_FIELDS.includes(field));
  const fixed = (field: SaleField) => !creating && (props.locked === true || !EDITABLE_FIELDS.includes(field));
  const shown = (field: SaleField) => (fixed(field) && props.current !== undefined ? props.current[field] : values[field]);

  const set = (field: SaleField) => (event: Event) => {
    const target = event.currentTarget as HTMLInputElement;
    setValues({ ...values, [field]: target.type === 'checkbox' ? target.checked : target.value });
  };

  const onSubmit = async (event: Event) => {
    event.preventDefault();
    setMessage(undefined);
    setRequestError(undefined);
    setOtherErrors([]);
    const check = checkSaleForm(values, props.mode, serverClock.now(), creating ? undefined : props.initial);
    setErrors(check.errors);
    if (!check.body) {
      focusFirstError(check.errors);
      return;
    }
    if (!creating && Object.keys(check.body).length === 0) {
      setMessage('Nothing changed.');
      return;
    }
    setSaving(true);
    try {
      const sale = await props.submit(check.body);
      setMessage(creating ? undefined : 'Saved.');
      props.onSaved(sale);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'VALIDATION_FAILED' && caught.details.length > 0) {
        const mapped = fieldErrorsFromDetails(caught.details);
        setErrors(mapped.fields);
        setOtherErrors(mapped.other);
        focusFirstError(mapped.fields);
      } else {
        setRequestError(caught);
      }
    } finally {
      setSaving(false);
    }
  };

  type InputAttributes = { id: string; name: string; 'aria-invalid': boolean; 'aria-describedby'?: string };
  const input = (field: SaleField, type: 'text' | 'datetime-local' = 'text', extra: Record<string, unknown> = {}) => (attributes: InputAttributes) =>
    type === 'datetime-local' ? (
      <input {...attributes} type="datetime-local" step={1} value={shown(field) as string} onInput={set(field)} disabled={disabled(field)} />
    ) : (
      <input {...attributes} type="text" value={shown(field) as string} onInput={set(field)} disabled={disabled(field)} {...extra} />
    );
  const numberField = (field: SaleField, label: string, hint?: string) => (
    <Field field={field} label={label} errors={errors} hint={hint}>
      {input(field, 'text', { inputMode: 'numeric' })}
    </Field>
  );
  const timeField = (field: SaleField, label: string, hint?: string) => (
    <Field field={field} label={label} errors={errors} hint={hint}>
      {input(field, 'datetime-local')}
    </Field>
  );

  const price = Number(values.priceCents);
  const priceHint = Number.isSafeInteger(price) && values.priceCents.trim() !== '' ? `In minor units (cents, fen): ${formatMoney(price, /^[A-Z]{3}$/.test(values.currency) ? values.currency : 'CNY')}` : 'In minor units (cents, fen): 69900 is 699.00';

  return (
    <form onSubmit={onSubmit} noValidate aria-label={creating ? 'Create a sale' : 'Edit the sale'} data-testid={creating ? 'create-sale-form' : 'edit-sale-form'}>
      <fieldset disabled={props.locked}>
        <legend>Product</legend>
        <div class="form-grid">
          <Field field="sku" label="SKU" errors={errors} hint={creating ? undefined : 'Fixed once created.'}>
            {input('sku', 'text', { autocomplete: 'off', maxLength: 200 })}
          </Field>
          <Field field="name" label="Name" errors={errors}>
            {input('name', 'text', { maxLength: 200 })}
          </Field>
          <Field field="priceCents" label="Price (minor units)" errors={errors} hint={priceHint}>
            {input('priceCents', 'text', { inputMode: 'numeric' })}
          </Field>
          <Field field="currency" label="Currency" errors={errors} hint={creating ? 'Default CNY.' : 'Fixed once created.'}>
            {input('currency', 'text', { maxLength: 3, autocapitalize: 'characters' })}
          </Field>
        </div>
        <Field field="description" label="Description (optional)" errors={errors}>
          {(attributes) => <textarea {...attributes} value={shown('description') as string} onInput={set('description')} disabled={disabled('description')} maxLength={5000} rows={3} />}
        </Field>
      </fieldset>
      <fieldset disabled={props.locked}>
        <legend>Stock and limits</legend>
        <div class="form-grid">
          {numberField('stock', 'Stock (general pool)', creating ? undefined : 'Change stock with "Add or remove stock".')}
          {numberField('fcodeStock', 'F-code stock', creating ? 'Units kept for F-code holders. Default 0.' : undefined)}
          {numberField('perUserLimit', 'Limit per buyer', '1 to 100 units. Default 1.')}
          {numberField('paymentWindowSeconds', 'Payment window (seconds)', '5 to 86,400. Default 900 (15 minutes).')}
        </div>
        <div class="field checkbox">
          <input
            id="sale-reservationRequired"
            name="reservationRequired"
            type="checkbox"
            checked={shown('reservationRequired') as boolean}
            onChange={set('reservationRequired')}
            disabled={disabled('reservationRequired')}
          />
          <label for="sale-reservationRequired">Buyers need a reservation (or an F-code)</label>
        </div>
      </fieldset>
      <fieldset disabled={props.locked}>
        <legend>Admission</legend>
        <div class="form-grid">
          <Field field="admission" label="How buyers get in" errors={errors} hint="Open: every eligible buyer at once. Waiting room: admitted at a rate, in a random order among those who came before the start. Lottery: a draw.">
            {(attributes) => (
              <select {...attributes} value={shown('admission') as string} onChange={set('admission')} disabled={disabled('admission')}>
                <option value="open">Open</option>
                <option value="queue">Waiting room</option>
                <option value="lottery">Lottery</option>
              </select>
            )}
          </Field>
          {values.admission === 'queue' ? (
            <>
              {numberField('admissionRatePerSecond', 'Buyers let in per second', '1 to 100,000. Default 1,000.')}
              {numberField('admissionTtlSeconds', 'Time to buy once let in (seconds)', '10 to 3,600. Default 120.')}
            </>
          ) : null}
          {values.admission === 'queue' || errors.queueOpensAt ? timeField('queueOpensAt', 'Waiting room opens (optional, your local time)', 'Default: when reservations close. At or before the start.') : null}
          {values.admission === 'lottery' ? numberField('purchaseWindowSeconds', "Winners' time to buy (seconds)", '60 to 86,400, from the start. Default 3,600. Units left after it go to the next in the draw.') : null}
          {values.admission === 'lottery' || errors.lotteryClosesAt ? timeField('lotteryClosesAt', 'Lottery entries close (optional, your local time)', 'Default: the start. At or before the start; commit the seed before then.') : null}
        </div>
      </fieldset>
      <fieldset disabled={props.locked}>
        <legend>Windows (your local time)</legend>
        <div class="form-grid">
          {timeField('startsAt', 'Sale starts')}
          {timeField('endsAt', 'Sale ends (optional)', 'Default: 24 hours after the start.')}
          {timeField('reservationOpensAt', 'Reservations open (optional)', 'Default: now.')}
          {timeField('reservationClosesAt', 'Reservations close (optional)', 'Default: the start.')}
          {timeField('fcodeOpensAt', 'F-code window opens (optional)', 'Default: the start. Changes lock when it opens.')}
        </div>
      </fieldset>
      {otherErrors.length > 0 ? (
        <div class="notice notice-error" role="alert">
          <p class="notice-title">The server did not accept these values</p>
          <ul>
            {otherErrors.map((detail) => (
              <li key={`${detail.field}:${detail.message}`}>
                {detail.field}: {detail.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {Object.keys(errors).length > 0 ? (
        <p class="field-error" role="alert">
          Please correct the highlighted fields.
        </p>
      ) : null}
      <ErrorNotice error={requestError} />
      {props.locked ? null : (
        <div class="row">
          <button type="submit" disabled={saving}>
            {saving ? 'Saving…' : creating ? 'Create sale' : 'Save changes'}
          </button>
          {message ? (
            <span role="status" class="muted">
              {message}
            </span>
          ) : null}
        </div>
      )}
    </form>
  );
}

function focusFirstError(errors: FieldErrors): void {
  const first = Object.keys(errors)[0];
  if (first) requestAnimationFrame(() => document.getElementById(`sale-${first}`)?.focus());
}
