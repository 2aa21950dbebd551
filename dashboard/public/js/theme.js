// Dark and light themes: the user's choice (kept in localStorage) wins over the system's.
const KEY = 'ringtail.theme';

export function currentTheme() {
  return document.documentElement.dataset.theme;
}

export function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  window.dispatchEvent(new CustomEvent('rt:theme', { detail: theme }));
}

export function initTheme(button) {
  const saved = localStorage.getItem(KEY);
  const system = matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  applyTheme(saved === 'light' || saved === 'dark' ? saved : system);
  button.addEventListener('click', () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    localStorage.setItem(KEY, next);
    applyTheme(next);
  });
}

/** Colours for canvas drawing, read from the CSS variables of the current theme. */
export function palette() {
  const s = getComputedStyle(document.documentElement);
  const v = (n) => s.getPropertyValue(n).trim();
  return {
    fg: v('--fg'),
    muted: v('--muted'),
    grid: v('--line'),
    accent: v('--accent'),
    warning: v('--warning'),
    critical: v('--critical'),
    series: [v('--s1'), v('--s2'), v('--s3'), v('--s4'), v('--s5'), v('--s6')],
  };
}
