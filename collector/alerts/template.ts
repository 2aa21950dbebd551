// A deliberately tiny template language for annotations: `{{ $value }}`, `{{ $labels.NAME }}`,
// `{{ $rule }}`, `{{ $severity }}`. No expressions, no eval: anything else is rejected when the
// rule is accepted, so rendering can never fail or run code. Output is plain text.
const TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;
const VAR = /^\$(value|rule|severity|labels\.[A-Za-z_][A-Za-z0-9_]*)$/;

export interface TemplateData {
  value: number | null;
  rule: string;
  severity: string;
  labels: Record<string, string>;
}

/** null when the template is acceptable, otherwise what is wrong with it. */
export function checkTemplate(text: string): string | null {
  for (const m of text.matchAll(TOKEN)) {
    if (!VAR.test(m[1]!)) return `unknown template variable '{{ ${m[1]} }}' (use $value, $rule, $severity or $labels.NAME)`;
  }
  const stripped = text.replace(TOKEN, '');
  if (stripped.includes('{{') || stripped.includes('}}')) return 'unbalanced {{ }} in template';
  return null;
}

/** Numbers shown as a person would write them: at most 4 decimals, no trailing zeros. */
export function formatValue(v: number | null): string {
  if (v === null || Number.isNaN(v)) return 'unknown';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toFixed(4)));
}

export function renderTemplate(text: string, data: TemplateData): string {
  return text.replace(TOKEN, (_all, expr: string) => {
    if (expr === '$value') return formatValue(data.value);
    if (expr === '$rule') return data.rule;
    if (expr === '$severity') return data.severity;
    if (expr.startsWith('$labels.')) return data.labels[expr.slice(8)] ?? '';
    return '';
  });
}
