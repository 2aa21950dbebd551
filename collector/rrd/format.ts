// rrdtool's text outputs: fetch (to the character, for scripts), info, and dump XML.
import { cExp10 } from './numbers.js';
import type { FetchResult, SeriesDef, SeriesInfo } from './types.js';

export function formatFetch(r: FetchResult): string {
  const out: string[] = ['           ' + r.dsNames.map((n) => n.padStart(20)).join('') + '\n\n'];
  for (const row of r.rows) {
    out.push(String(row.time).padStart(10) + ':' + row.values.map((v) => ' ' + cExp10(v)).join('') + '\n');
  }
  return out.join('');
}

/** rrdtool's dump/info number: "%0.10e", NaN as NaN, infinities as inf/-inf. */
export function dumpNum(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  return cExp10(v);
}

function utc(t: number): string {
  return new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function curRow(def: SeriesDef, lastUp: number, rra: number): number {
  const r = def.rra[rra]!;
  const rstep = def.step * r.pdpPerRow;
  return ((lastUp - (lastUp % rstep)) / rstep) % r.rows;
}

export function formatInfo(file: string, info: SeriesInfo): string {
  const { def, state } = info;
  const l: string[] = [`filename = "${file}"`, 'rrd_version = "0003"', `step = ${def.step}`, `last_update = ${state.lastUp}`];
  def.ds.forEach((d, i) => {
    const s = state.ds[i]!;
    const p = `ds[${d.name}]`;
    l.push(`${p}.index = ${i}`, `${p}.type = "${d.type}"`, `${p}.minimal_heartbeat = ${d.heartbeat}`);
    l.push(`${p}.min = ${dumpNum(d.min)}`, `${p}.max = ${dumpNum(d.max)}`, `${p}.last_ds = "${s.lastDs}"`);
    l.push(`${p}.value = ${dumpNum(s.scratch)}`, `${p}.unknown_sec = ${s.unknSec}`);
  });
  def.rra.forEach((r, i) => {
    const p = `rra[${i}]`;
    l.push(`${p}.cf = "${r.cf}"`, `${p}.rows = ${r.rows}`, `${p}.cur_row = ${curRow(def, state.lastUp, i)}`);
    l.push(`${p}.pdp_per_row = ${r.pdpPerRow}`, `${p}.xff = ${dumpNum(r.xff)}`);
    state.cdp[i]!.forEach((c, d) => {
      l.push(`${p}.cdp_prep[${d}].value = ${dumpNum(c.val)}`, `${p}.cdp_prep[${d}].unknown_datapoints = ${c.unkn}`);
    });
  });
  return l.join('\n') + '\n';
}

/** rrdtool's dump XML; `rows[rra]` holds that archive's rows oldest first, DS-major per row. */
export function formatDump(info: SeriesInfo, rows: Float64Array[]): string {
  const { def, state } = info;
  const o: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!DOCTYPE rrd SYSTEM "https://oss.oetiker.ch/rrdtool/rrdtool.dtd">',
    '<!-- Round Robin Database Dump -->',
    '<rrd>',
    '\t<version>0003</version>',
    `\t<step>${def.step}</step> <!-- Seconds -->`,
    `\t<lastupdate>${state.lastUp}</lastupdate> <!-- ${utc(state.lastUp)} -->`,
    '',
  ];
  def.ds.forEach((d, i) => {
    const s = state.ds[i]!;
    o.push('\t<ds>', `\t\t<name> ${d.name} </name>`, `\t\t<type> ${d.type} </type>`);
    o.push(`\t\t<minimal_heartbeat>${d.heartbeat}</minimal_heartbeat>`, `\t\t<min>${dumpNum(d.min)}</min>`, `\t\t<max>${dumpNum(d.max)}</max>`);
    o.push('', '\t\t<!-- PDP Status -->', `\t\t<last_ds>${escapeXml(s.lastDs)}</last_ds>`, `\t\t<value>${dumpNum(s.scratch)}</value>`);
    o.push(`\t\t<unknown_sec> ${s.unknSec} </unknown_sec>`, '\t</ds>', '');
  });
  o.push('\t<!-- Round Robin Archives -->');
  def.rra.forEach((r, i) => {
    const rstep = def.step * r.pdpPerRow;
    o.push('\t<rra>', `\t\t<cf>${r.cf}</cf>`, `\t\t<pdp_per_row>${r.pdpPerRow}</pdp_per_row> <!-- ${rstep} seconds -->`, '');
    o.push('\t\t<params>', `\t\t<xff>${dumpNum(r.xff)}</xff>`, '\t\t</params>', '\t\t<cdp_prep>');
    for (const c of state.cdp[i]!) {
      o.push('\t\t\t<ds>', `\t\t\t<primary_value>${dumpNum(c.primary)}</primary_value>`, `\t\t\t<secondary_value>${dumpNum(c.secondary)}</secondary_value>`);
      o.push(`\t\t\t<value>${dumpNum(c.val)}</value>`, `\t\t\t<unknown_datapoints>${c.unkn}</unknown_datapoints>`, '\t\t\t</ds>');
    }
    o.push('\t\t</cdp_prep>', '\t\t<database>');
    const last = state.lastUp - (state.lastUp % rstep);
    const data = rows[i]!;
    const nds = def.ds.length;
    for (let k = 0; k < r.rows; k++) {
      const t = last - (r.rows - 1 - k) * rstep;
      let vs = '';
      for (let d = 0; d < nds; d++) vs += `<v>${dumpNum(data[k * nds + d]!)}</v>`;
      o.push(`\t\t\t<!-- ${utc(t)} / ${t} --> <row>${vs}</row>`);
    }
    o.push('\t\t</database>', '\t</rra>');
  });
  o.push('</rrd>');
  return o.join('\n') + '\n';
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
