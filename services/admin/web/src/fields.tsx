/** Labelled inputs the pages share: text, codes, reasons, dates, the record type, and tables. */
import type { ComponentChildren, Ref } from 'preact';
import { Field, ScrollArea } from './ui.tsx';

/** The attributes the pages' text and number inputs use. */
interface InputProps {
  type?: 'email' | 'number';
  class?: string;
  required?: boolean;
  readOnly?: boolean;
  minLength?: number;
  maxLength?: number;
  min?: number;
  max?: number;
  pattern?: string;
  inputMode?: 'numeric';
  autocomplete?: 'off' | 'username' | 'one-time-code';
  spellcheck?: boolean;
  placeholder?: string;
}

/** An <input> in a Field, its hint (if any) wired up as its description. */
export function InputField(
  props: {
    label: string;
    hint?: ComponentChildren;
    value: string;
    onValue: (value: string) => void;
    inputRef?: Ref<HTMLInputElement>;
  } & InputProps,
) {
  const { label, hint, value, onValue, inputRef, ...rest } = props;
  return (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <input
          // Typed at InputProps above; preact's own input type is a union per `type` that a spread cannot narrow.
          {...(rest as object)}
          id={id}
          ref={inputRef ?? null}
          aria-describedby={hintId}
          value={value}
          onInput={(e) => onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** A 6-digit authenticator code: digits only, offered to the browser's one-time-code autofill. */
export function CodeField(props: {
  label: string;
  hint: string;
  value: string;
  onValue: (value: string) => void;
  inputRef?: Ref<HTMLInputElement>;
}) {
  return (
    <InputField
      {...props}
      inputMode="numeric"
      autocomplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      required
      onValue={(v) => props.onValue(v.replace(/\D/g, ''))}
    />
  );
}

/** The reason an export or a reveal asks for: required, and as long as the API accepts. */
export function ReasonField(props: { label: string; hint: string; value: string; onValue: (value: string) => void }) {
  return <InputField {...props} required minLength={3} maxLength={500} />;
}

/** A number of things to make, between `min` and `max`. */
export function CountField(props: { hint: string; max: number; value: string; onValue: (value: string) => void }) {
  return <InputField label="How many" {...props} type="number" min={1} required />;
}

/** A date input (its value set on change, as date pickers commit). */
export function DateField(props: { label: string; value: string; onValue: (value: string) => void }) {
  return (
    <Field label={props.label}>
      {(id) => <input id={id} type="date" value={props.value} onChange={(e) => props.onValue(e.currentTarget.value)} />}
    </Field>
  );
}

const TYPES = [
  { value: 'pan', one: 'Card number', many: 'Card numbers' },
  { value: 'ssn', one: 'SSN', many: 'SSNs' },
  { value: 'secret', one: 'Secret', many: 'Secrets' },
] as const;

/** The record type: `all` offers "All types" (the empty value); `plural` names the kinds in plural. */
export function TypeSelect(props: {
  value: string;
  onValue: (value: string) => void;
  all?: boolean;
  plural?: boolean;
}) {
  return (
    <Field label="Type">
      {(id) => (
        <select id={id} value={props.value} onChange={(e) => props.onValue(e.currentTarget.value)}>
          {props.all ? <option value="">All types</option> : null}
          {TYPES.map((t) => (
            <option key={t.value} value={t.value}>
              {props.plural ? t.many : t.one}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export type Column = string | { label: string; class: string };

/**
 * A table in its keyboard-scrollable area: the caption (for screen readers) defaults to the
 * area's label; `actions` adds a last column headed "Actions" for screen readers only.
 */
export function DataTable(props: {
  label: string;
  caption?: string;
  columns: readonly Column[];
  actions?: boolean;
  children: ComponentChildren;
  after?: ComponentChildren;
}) {
  return (
    <ScrollArea label={props.label}>
      <table>
        <caption class="sr-only">{props.caption ?? props.label}</caption>
        <thead>
          <tr>
            {props.columns.map((c) =>
              typeof c === 'string' ? (
                <th key={c} scope="col">
                  {c}
                </th>
              ) : (
                <th key={c.label} scope="col" class={c.class}>
                  {c.label}
                </th>
              ),
            )}
            {props.actions ? (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
      {props.after}
    </ScrollArea>
  );
}
