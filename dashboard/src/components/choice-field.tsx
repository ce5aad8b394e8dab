// A labelled select of names with an "All …" first choice (the empty value): the filters of the logs and events views.

/** `value` '' means all; `onChange` gets the chosen name, or '' for all. */
export function ChoiceField({ label, all, value, choices, onChange }: { label: string; all: string; value: string; choices: readonly string[]; onChange: (value: string) => void }) {
  return (
    <label class="field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{all}</option>
        {choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
}
