// Element building without HTML parsing: every string becomes a text node or an attribute
// value, so data (log lines, host names, alert text) can never become markup.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'hidden') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An in-app link; the target is always built from encoded parts, never taken from data. */
export function link(hash, text, props = {}) {
  return h('a', { href: hash, ...props }, text);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function toast(message) {
  const t = document.getElementById('toast');
  if (!t) return;
  t.textContent = message;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 4000);
}

/**
 * Sizes a canvas's backing store to its CSS box times the device pixel ratio (crisp lines on
 * high-density screens) and returns a cleared 2D context drawing in CSS pixels.
 */
export function sizedCanvas(canvas, fallbackWidth, fallbackHeight) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || fallbackWidth;
  const h = canvas.clientHeight || fallbackHeight;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}
