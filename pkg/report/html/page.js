'use strict';
// imgsize's HTML report: every table and chart is drawn from the JSON
// report embedded in the page. Each figure's element names where it came
// from (data-path, a JSON pointer into the report; data-bytes, the bytes),
// so a test can hold the page to the report. Text from the report is only
// ever set as text, never parsed as HTML.
(function () {
  const doc = JSON.parse(document.getElementById('imgsize-report').textContent);
  const app = document.getElementById('app');
  const NS = 'http://www.w3.org/2000/svg';
  const usedMarks = new Set();

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    return fill(e, attrs, kids);
  }
  function sv(tag, attrs, ...kids) {
    const e = document.createElementNS(NS, tag);
    return fill(e, attrs, kids);
  }
  function fill(e, attrs, kids) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) e.setAttribute(k, String(v));
    }
    for (const k of kids.flat()) {
      if (k === null || k === undefined || k === false) continue;
      e.appendChild(typeof k === 'object' ? k : document.createTextNode(String(k)));
    }
    return e;
  }

  const SI = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  function sig(v) { return v < 9.995 ? v.toFixed(2) : v < 99.95 ? v.toFixed(1) : v.toFixed(0); }
  // As imgsize's FormatBytes: SI units, three significant digits.
  function fmtBytes(n) {
    if (n < 0) return '-' + fmtBytes(-n);
    if (n < 1000) return n + ' B';
    let v = n, i = 0;
    while (v >= 1000 && i < SI.length - 1) { v /= 1000; i++; }
    let s = sig(v);
    if (parseFloat(s) >= 1000 && i < SI.length - 1) { v /= 1000; i++; s = sig(v); }
    return s + ' ' + SI[i];
  }
  function signed(n) { return (n > 0 ? '+' : '') + fmtBytes(n); }
  function esc(key) { return String(key).replace(/~/g, '~0').replace(/\//g, '~1'); }
  function ptr(...parts) { return '/' + parts.map(esc).join('/'); }

  const MARKS = { estimated: '~', annotation: 'ᵃ', 'gzip-trailer': 'ᵗ', 'zstd-header': 'ᶻ', mixed: 'ᵐ' };
  const MEANING = {
    '~': 'estimated, not measured',
    'ᵃ': 'stated by a layer annotation',
    'ᵗ': 'from the gzip trailer (the size mod 4 GiB)',
    'ᶻ': 'from a zstd frame header',
    'ᵐ': 'a total over layers sized by different exact or derived methods',
    '?': 'not known (hover for why); never 0',
  };
  // How a size record was found, for a title: null when exact.
  function provTitle(rec) { return rec.provenance === 'exact' ? null : rec.provenance + (rec.reason ? ': ' + rec.reason : ''); }
  // A size record ({bytes, provenance, reason}) at path, with its mark.
  function size(rec, path) {
    if (!rec || rec.bytes === null || rec.bytes === undefined) {
      usedMarks.add('?');
      return el('span', { class: 'unknown', title: (rec && rec.reason) || 'not known', 'data-path': path, 'data-unknown': '1' }, '?');
    }
    const mark = MARKS[rec.provenance] || '';
    if (mark) usedMarks.add(mark);
    return el('span', { class: 'fig', title: provTitle(rec), 'data-path': path, 'data-bytes': rec.bytes }, mark + fmtBytes(rec.bytes));
  }
  function bytes(n, path) { return el('span', { class: 'fig', 'data-path': path, 'data-bytes': n }, fmtBytes(n)); }
  function known(rec) { return rec && rec.bytes !== null && rec.bytes !== undefined; }
  function short(d) { return d ? d.replace(/^sha256:/, '').slice(0, 12) : ''; }
  function td(x, cls) { return el('td', { class: cls }, x); }
  function table(heads, rows) {
    return el('div', { class: 'table-wrap' }, el('table', null,
      el('thead', null, el('tr', null, heads.map(h => el('th', { class: h.endsWith(' ') ? 'num' : null }, h.trim())))),
      el('tbody', null, rows)));
  }
  function totals(pairs) {
    return el('dl', { class: 'totals' }, pairs.filter(Boolean).map(([k, v]) => el('div', null, el('dt', null, k), el('dd', null, v))));
  }
  function legend(items) {
    return el('div', { class: 'legend' }, items.map(([color, text]) => el('span', null, el('span', { class: 'swatch', style: 'background:' + color }), text)));
  }
  const PALETTE = ['#54aeff', '#fb8f44', '#4ac26b', '#c297ff', '#ff8182', '#d4a72c', '#76e3ea', '#ffadda', '#8c959f', '#2da44e'];
  function layerColor(i) { return PALETTE[i % PALETTE.length]; }
  function imageTitle(img) { return img.ref + (img.platform ? ' [' + img.platform + ']' : ''); }

  // A horizontal bar of segments [{value, color, title}] scaled to max.
  function stackedBar(segs, max, label) {
    const W = 1000, H = 26, pad = 0;
    const g = sv('svg', { class: 'chart', viewBox: `0 0 ${W} ${H + 17}`, role: 'img', 'aria-label': label });
    let x = pad;
    for (const s of segs) {
      const w = max > 0 ? (s.value / max) * (W - 2 * pad) : 0;
      if (w <= 0) continue;
      g.appendChild(sv('rect', { x, y: 0, width: Math.max(w, 0.5), height: H, fill: s.color }, sv('title', null, s.title)));
      x += w;
    }
    g.appendChild(sv('text', { x: 0, y: H + 12 }, label));
    return g;
  }

  function layerSizes(img, key) {
    return img.layers.map(l => known(l[key]) ? l[key].bytes : 0);
  }

  function imageSection(img, i, also) {
    const key = known(img.compressed) ? 'compressed' : 'uncompressed';
    const sizes = layerSizes(img, key);
    const total = sizes.reduce((a, b) => a + b, 0);
    const segs = img.layers.map((l, j) => ({ value: sizes[j], color: layerColor(j), title: `#${j} ${short(l.digest)} ${fmtBytes(sizes[j])} ${l.createdBy || ''}` }));
    const rows = img.layers.map((l, j) => el('tr', null,
      td(el('span', null, el('span', { class: 'swatch', style: 'background:' + layerColor(j) }), String(j))),
      td(short(l.digest), 'code'),
      td(size(l.compressed, ptr('images', i, 'layers', j, 'compressed')), 'num'),
      td(size(l.uncompressed, ptr('images', i, 'layers', j, 'uncompressed')), 'num'),
      also ? td((also[l.digest] || []).join(', ')) : null,
      td(l.createdBy || '', 'code')));
    const heads = ['#', 'digest', 'compressed ', 'uncompressed '];
    if (also) heads.push('also in');
    heads.push('created by');
    return el('section', null,
      el('h2', null, imageTitle(img)),
      totals([
        ['compressed', size(img.compressed, ptr('images', i, 'compressed'))],
        ['uncompressed', size(img.uncompressed, ptr('images', i, 'uncompressed'))],
        ['layers', String(img.layers.length)],
        img.digest ? ['digest', el('span', { class: 'code' }, img.digest)] : null,
      ]),
      stackedBar(segs, total, `layers by ${key} size`),
      table(heads, rows));
  }

  function renderInspect() {
    if (doc.indexes && doc.indexes.length) {
      doc.indexes.forEach((x, k) => {
        const also = {};
        for (const s of x.sharedLayers) also[s.digest] = s.images.map(p => doc.images[p].platform);
        app.appendChild(el('h2', null, 'Index ' + x.ref));
        app.appendChild(totals([
          ['stored, every blob once', size(x.stored, ptr('indexes', k, 'stored'))],
          ['platforms', String(x.platforms.length + (x.unselected ? ' of ' + (x.platforms.length + x.unselected) : ''))],
          ['shared layers', String(x.sharedLayers.length)],
        ]));
        const max = Math.max(1, ...x.platforms.map(p => known(doc.images[p].compressed) ? doc.images[p].compressed.bytes : 0));
        x.platforms.forEach(p => {
          const img = doc.images[p];
          const sh = new Set(x.sharedLayers.map(s => s.digest));
          const segs = img.layers.map(l => ({ value: known(l.compressed) ? l.compressed.bytes : 0, color: sh.has(l.digest) ? 'var(--shared)' : 'var(--unique)', title: short(l.digest) }));
          app.appendChild(stackedBar(segs, max, img.platform + ' (compressed)'));
        });
        app.appendChild(legend([['var(--shared)', 'layer another platform shares (stored once)'], ['var(--unique)', 'layer of this platform only']]));
        app.appendChild(table(['artifact', 'of', 'bytes '], x.artifacts.map((a, j) => el('tr', null,
          td(a.kind), td(short(a.subject), 'code'), td(size(a.bytes, ptr('indexes', k, 'artifacts', j, 'bytes')), 'num')))));
        x.platforms.forEach(p => app.appendChild(imageSection(doc.images[p], p, also)));
      });
      return;
    }
    doc.images.forEach((img, i) => app.appendChild(imageSection(img, i)));
  }

  function ratioText(r) {
    if (r === null || r === undefined) return '';
    if (Math.abs(r - 1) < 0.005) return 'same size';
    return r > 1 ? r.toFixed(r >= 10 ? 0 : 1) + '× smaller' : (1 / r).toFixed(1 / r >= 10 ? 0 : 1) + '× larger';
  }

  function compareGroup(rowIdx, baseImg, basis, title) {
    const c = doc.comparison;
    if (title) app.appendChild(el('h2', null, title));
    const others = rowIdx.filter(k => c.rows[k].image !== baseImg);
    if (others.length) {
      const k = others[0], r = c.rows[k], d = r[basis];
      app.appendChild(el('div', { class: 'headline' },
        doc.images[r.image].ref + ' is ', d && d.ratio !== null ? el('span', { 'data-path': ptr('comparison', 'rows', k, basis, 'ratio'), 'data-value': d.ratio }, ratioText(d.ratio)) : '?',
        ' than ' + doc.images[baseImg].ref + ' (' + basis + ')'));
    }
    const key = basis;
    const imgs = rowIdx.map(k => c.rows[k].image);
    const max = Math.max(1, ...imgs.map(i => known(doc.images[i][key]) ? doc.images[i][key].bytes : 0));
    for (const k of rowIdx) {
      const r = c.rows[k], img = doc.images[r.image];
      const added = new Set(r.addedLayers), recompressed = new Set(r.recompressedLayers || []);
      const segs = img.layers.map(l => {
        const cls = r.image === baseImg ? 'base' : added.has(l.digest) ? 'unique' : recompressed.has(l.digest) ? 'recompressed' : 'shared';
        return { value: known(l[key]) ? l[key].bytes : 0, color: `var(--${cls})`, title: `${cls} ${short(l.digest)} ${known(l[key]) ? fmtBytes(l[key].bytes) : '?'}` };
      });
      app.appendChild(stackedBar(segs, max, imageTitle(img) + (r.image === baseImg ? ' (baseline)' : '')));
    }
    app.appendChild(legend([['var(--base)', 'baseline'], ['var(--shared)', 'shared with the baseline (same blob)'], ['var(--recompressed)', 'recompressed (same content, other blob)'], ['var(--unique)', 'unique: content the baseline lacks']]));
    const delta = (d, path) => d ? el('span', { class: d.deltaBytes > 0 ? 'fail' : 'pass', 'data-path': path, 'data-bytes': d.deltaBytes }, signed(d.deltaBytes) + (d.deltaPercent !== null ? ' (' + (d.deltaPercent > 0 ? '+' : '') + d.deltaPercent.toFixed(1) + '%)' : '')) : '';
    app.appendChild(table(['image', 'compressed ', 'Δ ', 'uncompressed ', 'Δ ', 'ratio ', 'shared ', 'unique '], rowIdx.map(k => {
      const r = c.rows[k], img = doc.images[r.image], base = r.image === baseImg;
      return el('tr', null, td(imageTitle(img) + (base ? ' (baseline)' : '')),
        td(size(img.compressed, ptr('images', r.image, 'compressed')), 'num'), td(base ? '' : delta(r.compressed, ptr('comparison', 'rows', k, 'compressed', 'deltaBytes')), 'num'),
        td(size(img.uncompressed, ptr('images', r.image, 'uncompressed')), 'num'), td(base ? '' : delta(r.uncompressed, ptr('comparison', 'rows', k, 'uncompressed', 'deltaBytes')), 'num'),
        td(base || !r[basis] ? '' : ratioText(r[basis].ratio), 'num'),
        td(base ? '' : size(r.shared.compressed, ptr('comparison', 'rows', k, 'shared', 'compressed')), 'num'),
        td(base ? '' : size(r.unique.compressed, ptr('comparison', 'rows', k, 'unique', 'compressed')), 'num'));
    })));
  }

  function renderCompare() {
    const c = doc.comparison;
    if (c.platforms && c.platforms.length) {
      if (c.stored) {
        app.appendChild(table(['image', 'stored, every blob once ', 'Δ '], doc.indexes.map((x, k) => el('tr', null,
          td(x.ref + (k === 0 ? ' (baseline)' : '')), td(size(x.stored, ptr('indexes', k, 'stored')), 'num'),
          td(k > 0 && c.stored[k] ? el('span', { 'data-path': ptr('comparison', 'stored', k, 'deltaBytes'), 'data-bytes': c.stored[k].deltaBytes }, signed(c.stored[k].deltaBytes)) : '', 'num')))));
      }
      for (const p of c.platforms) {
        if (p.baseline === null || !p.rows.length) {
          app.appendChild(el('p', { class: 'note' }, p.platform + ': only in ' + p.images.map((img, k) => img === null ? null : doc.indexes[k].ref).filter(Boolean).join(', ') + '; compared with nothing.'));
          continue;
        }
        compareGroup(p.rows, p.baseline, p.ratioBasis || 'compressed', 'Platform ' + p.platform);
      }
      return;
    }
    compareGroup(c.rows.map((_, k) => k), c.baseline, c.ratioBasis);
    c.rows.forEach((r, k) => {
      if (r.packages) packageChanges('Packages from baseline ' + imageTitle(doc.images[c.baseline]) + ' (A) to ' + imageTitle(doc.images[r.image]) + ' (B)', r.packages, ['comparison', 'rows', k, 'packages']);
    });
  }

  function renderCheck() {
    const c = doc.check;
    const verdict = c.passed ? (c.near ? 'near' : 'pass') : 'fail';
    app.appendChild(el('div', { class: 'banner ' + verdict },
      (c.passed ? 'Gate passed: ' : 'Gate FAILED: ') + `${c.results.length} image${c.results.length === 1 ? '' : 's'}, ${c.budgets} budgets, ${c.failed} failed, ${c.near} near the limit, ${c.errors} unreadable`));
    const rows = [];
    c.results.forEach((r, i) => {
      if (r.error) {
        rows.push(el('tr', null, td(r.ref), td('read image'), td(''), td(''), td(''), td(el('span', { class: 'error' }, 'ERROR: ' + r.error))));
        return;
      }
      r.budgets.forEach((b, j) => {
        const base = ptr('check', 'results', i, 'budgets', j);
        const fmt = (v, part) => v === null ? el('span', { class: 'unknown', title: b.reason || 'not known', 'data-path': base + '/' + part, 'data-unknown': '1' }, '?')
          : b.unit === 'bytes' ? el('span', { 'data-path': base + '/' + part, 'data-bytes': v }, fmtBytes(v))
            : el('span', { 'data-path': base + '/' + part, 'data-value': v }, b.unit === 'percent' ? v.toFixed(2) + '%' : String(v));
        const status = b.status === 'pass' ? (b.near ? 'near' : 'pass') : 'fail';
        const frac = b.actual === null || !b.limit ? 0 : Math.max(0, Math.min(b.actual / b.limit, 1.5));
        const bar = sv('svg', { class: 'chart budget', viewBox: '0 0 150 12', width: 150, height: 12 },
          sv('rect', { x: 0, y: 2, width: 150, height: 8, fill: '#eaeef2' }),
          sv('rect', { x: 0, y: 2, width: frac * 100, height: 8, fill: `var(--${status})` }),
          sv('line', { x1: 100, x2: 100, y1: 0, y2: 12, stroke: '#1b1f24', 'stroke-width': 1 }));
        rows.push(el('tr', null, td(r.ref), td(b.budget + (b.basis ? ' (' + b.basis + ')' : '')),
          td(fmt(b.limit, 'limit'), 'num'), td(fmt(b.actual, 'actual'), 'num'), td(fmt(b.margin, 'margin'), 'num'),
          td(el('span', null, bar, ' ', el('span', { class: status }, b.status === 'unknown' ? 'UNKNOWN' : status === 'fail' ? 'FAIL' : status === 'near' ? 'pass (near)' : 'pass')))));
      });
    });
    app.appendChild(table(['image', 'budget', 'limit ', 'actual ', 'margin ', 'result'], rows));
    app.appendChild(el('p', { class: 'note' }, 'Bars: the actual figure against its limit (the black line); UNKNOWN fails the gate: a figure that cannot be known is never a pass.'));
  }

  // A treemap of items [{label, value, color, path, onClick}] in w × h:
  // each split cuts the items in two halves of about equal weight along
  // the longer side.
  function layout(items, x, y, w, h, out) {
    if (!items.length) return;
    if (items.length === 1) { out.push({ item: items[0], x, y, w, h }); return; }
    const total = items.reduce((a, b) => a + b.value, 0);
    let acc = 0, cut = 0;
    while (cut < items.length - 1 && acc + items[cut].value <= total / 2) acc += items[cut++].value;
    if (cut === 0) { acc = items[0].value; cut = 1; }
    const f = total > 0 ? acc / total : 0.5;
    if (w >= h) { layout(items.slice(0, cut), x, y, w * f, h, out); layout(items.slice(cut), x + w * f, y, w * (1 - f), h, out); }
    else { layout(items.slice(0, cut), x, y, w, h * f, out); layout(items.slice(cut), x, y + h * f, w, h * (1 - f), out); }
  }
  function treemap(items, label) {
    const W = 1000, H = 420;
    const svgEl = sv('svg', { class: 'chart treemap', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label });
    const cells = [];
    layout(items.filter(i => i.value > 0).sort((a, b) => b.value - a.value), 0, 0, W, H, cells);
    for (const c of cells) {
      const g = sv('g', { class: c.item.onClick ? 'dir' : null });
      g.appendChild(sv('rect', { x: c.x, y: c.y, width: Math.max(c.w, 0), height: Math.max(c.h, 0), fill: c.item.color, 'data-path': c.item.path, 'data-bytes': c.item.value },
        sv('title', null, c.item.label + ': ' + fmtBytes(c.item.value))));
      if (c.w > 60 && c.h > 16) {
        g.appendChild(sv('text', { x: c.x + 4, y: c.y + 13 }, (c.item.label.length > c.w / 7 ? c.item.label.slice(0, Math.floor(c.w / 7) - 1) + '…' : c.item.label)));
      }
      if (c.item.onClick) g.addEventListener('click', c.item.onClick);
      svgEl.appendChild(g);
    }
    return svgEl;
  }
  function parentOf(p) { const s = p.replace(/\/+$/, ''); const i = s.lastIndexOf('/'); return i <= 0 ? (s.startsWith('/') && i === 0 ? '/' : '') : s.slice(0, i); }
  function norm(p) { return p.replace(/^\/+/, '').replace(/\/+$/, ''); }
  function under(p, dir) { return dir === '' || norm(p) === dir || norm(p).startsWith(dir + '/'); }
  function childOf(p, dir) { const n = norm(p); if (!under(n, dir) || n === dir) return false; const rest = dir === '' ? n : n.slice(dir.length + 1); return !rest.includes('/'); }

  // A zoomable map of the directories (dirs: [{path, bytes, ptr}]) and
  // files ([{path, bytes, layer, ptr}]) under dir, with a breadcrumb.
  function zoomable(container, dirs, files, rootBytes, caption) {
    function draw(dir) {
      container.textContent = '';
      const crumbs = el('div', { class: 'crumbs' }, 'in ');
      const parts = dir === '' ? [] : dir.split('/');
      crumbs.appendChild(el('button', { type: 'button' }, '/'));
      crumbs.lastChild.addEventListener('click', () => draw(''));
      parts.forEach((p, i) => {
        const to = parts.slice(0, i + 1).join('/');
        const b = el('button', { type: 'button' }, p + '/');
        b.addEventListener('click', () => draw(to));
        crumbs.appendChild(b);
      });
      container.appendChild(crumbs);
      const items = [];
      const kids = dirs.filter(d => childOf(d.path, dir));
      for (const d of kids) {
        const deeper = dirs.some(x => childOf(x.path, norm(d.path))) || files.some(f => under(f.path, norm(d.path)));
        items.push({ label: norm(d.path).split('/').pop() + '/', value: d.bytes, color: '#8c959f', path: d.ptr, onClick: deeper ? () => draw(norm(d.path)) : null });
      }
      // Where no subdirectory is listed, the largest files anywhere below
      // stand for it, named by their path from here.
      const shown = kids.length ? files.filter(f => childOf(f.path, dir)) : files.filter(f => under(f.path, dir) && norm(f.path) !== dir);
      const rel = f => dir === '' ? norm(f.path) : norm(f.path).slice(dir.length + 1);
      for (const f of shown) items.push({ label: rel(f), value: f.bytes, color: f.layer >= 0 ? layerColor(f.layer) : '#d0d7de', path: f.ptr });
      const own = dir === '' ? rootBytes : (dirs.find(d => norm(d.path) === dir) || { bytes: 0 }).bytes;
      const listed = items.reduce((a, b) => a + b.value, 0);
      if (own > listed) items.push({ label: 'other files', value: own - listed, color: '#eaeef2' });
      container.appendChild(treemap(items, caption));
    }
    // Start where the bytes are: below the chain of lone directories that
    // hold nearly everything (/usr, then /usr/local…).
    let start = '';
    for (;;) {
      const kids = dirs.filter(d => childOf(d.path, start));
      const own = start === '' ? rootBytes : (dirs.find(d => norm(d.path) === start) || { bytes: 0 }).bytes;
      const direct = files.some(f => childOf(f.path, start));
      if (kids.length !== 1 || direct || kids[0].bytes < 0.99 * own || !dirs.some(x => childOf(x.path, norm(kids[0].path)))) break;
      start = norm(kids[0].path);
    }
    draw(start);
  }

  function renderFiles() {
    const f = doc.files, img = doc.images[f.image];
    app.appendChild(el('h2', null, 'Files of ' + imageTitle(img)));
    app.appendChild(totals([
      ['final filesystem', bytes(f.filesystem.bytes, ptr('files', 'filesystem', 'bytes'))],
      ['entries', String(f.filesystem.entries)],
      ['reclaimable', bytes(f.reclaimableBytes, ptr('files', 'reclaimableBytes'))],
      ['dive efficiency', (f.dive.efficiency * 100).toFixed(2) + '%'],
      ['dive wasted', bytes(f.dive.wastedBytes, ptr('files', 'dive', 'wastedBytes'))],
    ]));
    const map = el('div');
    app.appendChild(map);
    zoomable(map, f.dirs.map((d, i) => ({ path: d.path, bytes: d.bytes, ptr: ptr('files', 'dirs', i, 'bytes') })),
      f.largest.map((x, i) => ({ path: x.path, bytes: x.bytes, layer: x.layer, ptr: ptr('files', 'largest', i, 'bytes') })),
      f.filesystem.bytes, 'the final filesystem by directory; files coloured by the layer that wrote them');
    app.appendChild(legend([...new Set(f.largest.map(x => x.layer))].sort((a, b) => a - b).map(l => [layerColor(l), 'layer ' + l + (img.layers[l] ? ' ' + (img.layers[l].createdBy || short(img.layers[l].digest)).slice(0, 50) : '')]).concat([['#8c959f', 'directory (click to zoom)']])));
    app.appendChild(el('h3', null, 'Largest files'));
    app.appendChild(table(['path', 'bytes ', 'layer '], f.largest.map((x, i) => el('tr', null, td(x.path, 'code'), td(bytes(x.bytes, ptr('files', 'largest', i, 'bytes')), 'num'), td(String(x.layer), 'num')))));
    app.appendChild(el('h3', null, 'Layers'));
    app.appendChild(table(['#', 'digest', 'added ', 'changed ', 'deleted ', 'tar bytes '], f.layers.map((l, i) => el('tr', null,
      td(el('span', null, el('span', { class: 'swatch', style: 'background:' + layerColor(l.index) }), String(l.index))), td(short(l.digest), 'code'),
      td(bytes(l.added.bytes, ptr('files', 'layers', i, 'added', 'bytes')), 'num'), td(bytes(l.changed.bytes, ptr('files', 'layers', i, 'changed', 'bytes')), 'num'),
      td(bytes(l.deleted.bytes, ptr('files', 'layers', i, 'deleted', 'bytes')), 'num'), td(bytes(l.tarBytes, ptr('files', 'layers', i, 'tarBytes')), 'num')))));
    if (f.hints.length) {
      app.appendChild(el('h3', null, 'Hints'));
      app.appendChild(table(['hint', 'bytes ', 'fix'], f.hints.map((h, i) => el('tr', null, td(h.title), td(bytes(h.bytes, ptr('files', 'hints', i, 'bytes')), 'num'), td(h.fix)))));
    }
  }

  function renderDiff() {
    const d = doc.diff, a = doc.images[d.imageA], b = doc.images[d.imageB];
    app.appendChild(el('h2', null, 'From ' + imageTitle(a) + ' to ' + imageTitle(b)));
    app.appendChild(totals([
      ['files in A', bytes(d.filesystemA.bytes, ptr('diff', 'filesystemA', 'bytes'))],
      ['files in B', bytes(d.filesystemB.bytes, ptr('diff', 'filesystemB', 'bytes'))],
      ['added', bytes(d.added.bytes, ptr('diff', 'added', 'bytes'))],
      ['removed', bytes(d.removed.bytes, ptr('diff', 'removed', 'bytes'))],
      ['changed', bytes(d.changed.bytes, ptr('diff', 'changed', 'bytes'))],
    ]));
    const grew = d.dirs.map((x, i) => ({ path: x.path, bytes: x.deltaBytes, ptr: ptr('diff', 'dirs', i, 'deltaBytes') })).filter(x => x.bytes > 0);
    const map = el('div');
    app.appendChild(map);
    const growth = grew.filter(x => !grew.some(y => y !== x && childOf(x.path, norm(y.path)))).reduce((s, x) => s + x.bytes, 0);
    zoomable(map, grew, [], growth, 'what grew, by directory');
    app.appendChild(table(['directory', 'A ', 'B ', 'Δ '], d.dirs.map((x, i) => el('tr', null, td(x.path, 'code'),
      td(bytes(x.bytesA, ptr('diff', 'dirs', i, 'bytesA')), 'num'), td(bytes(x.bytesB, ptr('diff', 'dirs', i, 'bytesB')), 'num'),
      td(el('span', { class: x.deltaBytes > 0 ? 'fail' : 'pass', 'data-path': ptr('diff', 'dirs', i, 'deltaBytes'), 'data-bytes': x.deltaBytes }, signed(x.deltaBytes)), 'num')))));
    app.appendChild(el('h3', null, 'Entries that differ'));
    app.appendChild(table(['path', 'change', 'Δ '], d.entries.map((e, i) => el('tr', null, td(e.path, 'code'), td(e.change),
      td(el('span', { 'data-path': ptr('diff', 'entries', i, 'deltaBytes'), 'data-bytes': e.deltaBytes }, signed(e.deltaBytes)), 'num')))));
    if (d.packages) packageChanges('Packages that differ', d.packages, ['diff', 'packages']);
  }

  // The packages that differ between A and B (a packageDiff at the
  // report path base), largest change first, as the report lists them.
  function packageChanges(title, pk, base) {
    app.appendChild(el('h3', null, title));
    app.appendChild(table(['change', 'kind', 'name', 'version', 'A ', 'B ', 'Δ '], pk.changes.map((c, i) => el('tr', null, td(c.change), td(c.kind), td(c.name, 'code'),
      td(c.change === 'upgraded' ? c.oldVersion + ' → ' + c.newVersion : (c.newVersion || c.oldVersion || ''), 'code'),
      td(bytes(c.oldBytes, ptr(...base, 'changes', i, 'oldBytes')), 'num'), td(bytes(c.newBytes, ptr(...base, 'changes', i, 'newBytes')), 'num'),
      td(el('span', { class: c.deltaBytes > 0 ? 'fail' : 'pass', 'data-path': ptr(...base, 'changes', i, 'deltaBytes'), 'data-bytes': c.deltaBytes }, signed(c.deltaBytes)), 'num')))));
    app.appendChild(el('p', { class: 'note' }, 'Packages are matched by kind and name; A and B are the bytes each owns in the final filesystems; unowned bytes changed by ',
      el('span', { 'data-path': ptr(...base, 'unownedDeltaBytes'), 'data-bytes': pk.unownedDeltaBytes }, signed(pk.unownedDeltaBytes)), '.'));
    if (pk.notes && pk.notes.length) app.appendChild(el('ul', { class: 'note' }, pk.notes.map(n => el('li', { class: 'fail' }, n))));
  }

  function renderPackages() {
    const p = doc.packages, img = doc.images[p.image];
    app.appendChild(el('h2', null, 'Packages of ' + imageTitle(img)));
    app.appendChild(totals([
      ['final filesystem', bytes(p.total.bytes, ptr('packages', 'total', 'bytes'))],
      ['packages', String(p.packages.length)],
      ['unowned', bytes(p.unowned.bytes, ptr('packages', 'unowned', 'bytes'))],
    ]));
    const most = Math.max(p.unowned.bytes, ...p.packages.map(x => x.bytes), 1);
    const rows = p.packages.map((x, i) => el('tr', null, td(x.kind), td(x.name, 'code'), td(x.version, 'code'), td(String(x.files), 'num'),
      td(bytes(x.bytes, ptr('packages', 'packages', i, 'bytes')), 'num'),
      td(stackedBar(x.layers.map(l => ({ value: l.bytes, color: layerColor(l.layer), title: 'layer ' + l.layer })), most, x.name)),
      td(x.declaredBytes === null ? '' : el('span', { class: x.disagrees ? 'fail' : '', 'data-path': ptr('packages', 'packages', i, 'declaredBytes'), 'data-bytes': x.declaredBytes }, fmtBytes(x.declaredBytes) + (x.disagrees ? ' !' : '')), 'num')));
    rows.push(el('tr', null, td(''), td('(unowned)'), td(''), td(String(p.unowned.files), 'num'), td(bytes(p.unowned.bytes, ptr('packages', 'unowned', 'bytes')), 'num'),
      td(stackedBar(p.unowned.layers.map(l => ({ value: l.bytes, color: layerColor(l.layer), title: 'layer ' + l.layer })), most, 'unowned')), td('')));
    app.appendChild(table(['kind', 'name', 'version', 'files ', 'bytes ', 'by layer', 'declared '], rows));
    app.appendChild(el('h3', null, 'Databases'));
    app.appendChild(table(['kind', 'path', 'read', 'packages ', 'note'], p.databases.map(d => el('tr', null, td(d.kind), td(d.path, 'code'), td(d.read ? 'yes' : 'no'), td(String(d.packages), 'num'), td(d.note || '')))));
    for (const n of p.notes) app.appendChild(el('p', { class: 'note' }, n));
    if (p.hints.length) {
      app.appendChild(el('h3', null, 'Hints'));
      app.appendChild(table(['hint', 'bytes ', 'fix'], p.hints.map((h, i) => el('tr', null, td(h.title), td(bytes(h.bytes, ptr('packages', 'hints', i, 'bytes')), 'num'), td(h.fix)))));
    }
  }

  // A line chart of a trend series: compressed and uncompressed sizes by
  // point, oldest left. An unknown size is not drawn (the line breaks
  // there); each dot carries the figure it stands for with its mark and
  // provenance, and a figure that is not exact is a hollow dot. The
  // caption says what the drawing leaves out or draws inexactly.
  function lineChart(series, k) {
    const W = 1000, H = 260, L = 70, R = 10, T = 10, B = 60;
    const pts = series.points;
    const val = (p, key) => { const r = doc.images[p.image][key]; return known(r) ? r.bytes : null; };
    const all = pts.flatMap(p => [val(p, 'compressed'), val(p, 'uncompressed')]).filter(v => v !== null);
    const max = Math.max(1, ...all);
    const x = j => L + (pts.length > 1 ? j * (W - L - R) / (pts.length - 1) : (W - L - R) / 2);
    const y = v => T + (H - T - B) * (1 - v / max);
    const g = sv('svg', { class: 'chart trend', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'size by ' + (doc.trend.repository ? 'tag' : 'report') + ', ' + series.platform });
    for (const f of [0, 0.5, 1]) {
      g.appendChild(sv('line', { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), stroke: '#d0d7de' }));
      g.appendChild(sv('text', { x: L - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, fmtBytes(Math.round(max * f))));
    }
    const unknown = { compressed: 0, uncompressed: 0 };
    let inexact = 0;
    [['uncompressed', '#fb8f44'], ['compressed', '#54aeff']].forEach(([key, color]) => {
      let run = [];
      const flush = () => { if (run.length > 1) g.appendChild(sv('polyline', { points: run.join(' '), fill: 'none', stroke: color, 'stroke-width': 2 })); run = []; };
      pts.forEach((p, j) => {
        const rec = doc.images[p.image][key];
        if (!known(rec)) { unknown[key]++; flush(); return; }
        const v = rec.bytes;
        run.push(x(j) + ',' + y(v));
        const exact = rec.provenance === 'exact';
        if (!exact) { inexact++; const m = MARKS[rec.provenance]; if (m) usedMarks.add(m); }
        const how = exact ? '' : ' (' + provTitle(rec) + ')';
        g.appendChild(sv('circle', { cx: x(j), cy: y(v), r: 4, fill: exact ? color : '#ffffff', stroke: color, 'stroke-width': 2, 'data-path': ptr('images', p.image, key), 'data-bytes': v, 'data-provenance': rec.provenance },
          sv('title', null, p.label + ': ' + key + ' ' + (MARKS[rec.provenance] || '') + fmtBytes(v) + how)));
      });
      flush();
    });
    const every = Math.max(1, Math.ceil(pts.length / 12));
    pts.forEach((p, j) => { if (j % every === 0 || j === pts.length - 1) g.appendChild(sv('text', { x: x(j), y: H - B + 18, 'text-anchor': 'middle' }, p.label.length > 18 ? p.label.slice(0, 17) + '…' : p.label)); });
    const caveats = [];
    if (inexact) caveats.push(inexact + ' derived or estimated ' + (inexact === 1 ? 'figure is a hollow dot' : 'figures are hollow dots') + ' (hover for how each was found)');
    for (const key of ['compressed', 'uncompressed']) if (unknown[key]) caveats.push(unknown[key] + ' without a known ' + key + ' size not drawn (the line breaks there)');
    return caveats.length ? el('figure', { class: 'chart-wrap' }, g, el('figcaption', { class: 'note', 'data-caveats': caveats.length }, caveats.join('; '))) : g;
  }

  function renderTrend() {
    const tr = doc.trend;
    const deltaMark = d => { const m = MARKS[d.provenance] || ''; if (m) usedMarks.add(m); return m; };
    const delta = (d, path) => d ? el('span', { class: d.deltaBytes > 0 ? 'fail' : 'pass', 'data-path': path, 'data-bytes': d.deltaBytes, title: d.provenance }, deltaMark(d) + signed(d.deltaBytes) + (d.deltaPercent !== null ? ' (' + (d.deltaPercent > 0 ? '+' : '') + d.deltaPercent.toFixed(1) + '%)' : '')) : '';
    const unknownDelta = d => d ? null : (usedMarks.add('?'), el('span', { class: 'unknown', title: 'a size on either side is not known' }, '?'));
    app.appendChild(el('p', { class: 'headline' }, (tr.repository || 'saved reports') + ': ordered by ' + tr.order));
    tr.series.forEach((s, k) => {
      app.appendChild(el('h2', null, 'Platform ' + s.platform));
      if (s.points.length > 1) {
        const first = s.points[0].label, last = s.points[s.points.length - 1].label;
        app.appendChild(totals([
          ['compressed, ' + first + ' → ' + last, s.compressed ? delta(s.compressed, ptr('trend', 'series', k, 'compressed', 'deltaBytes')) : unknownDelta(null)],
          ['uncompressed, ' + first + ' → ' + last, s.uncompressed ? delta(s.uncompressed, ptr('trend', 'series', k, 'uncompressed', 'deltaBytes')) : unknownDelta(null)],
        ]));
      }
      app.appendChild(lineChart(s, k));
      app.appendChild(legend([['#54aeff', 'compressed'], ['#fb8f44', 'uncompressed']]));
      app.appendChild(table([tr.repository ? 'tag' : 'report', tr.order === 'recorded' || tr.order === 'args' ? 'recorded' : 'created', 'compressed ', 'Δ ', 'uncompressed ', 'Δ '], s.points.map((p, j) => el('tr', null,
        td(p.label), td(p.time || 'unknown'),
        td(size(doc.images[p.image].compressed, ptr('images', p.image, 'compressed')), 'num'),
        td(j === 0 ? '' : p.compressed ? delta(p.compressed, ptr('trend', 'series', k, 'points', j, 'compressed', 'deltaBytes')) : unknownDelta(null), 'num'),
        td(size(doc.images[p.image].uncompressed, ptr('images', p.image, 'uncompressed')), 'num'),
        td(j === 0 ? '' : p.uncompressed ? delta(p.uncompressed, ptr('trend', 'series', k, 'points', j, 'uncompressed', 'deltaBytes')) : unknownDelta(null), 'num')))));
    });
    if (tr.notes.length) app.appendChild(el('ul', { class: 'note' }, tr.notes.map(n => el('li', null, n))));
  }

  app.appendChild(el('h1', null, 'imgsize ' + doc.kind));
  app.appendChild(el('p', { class: 'meta' }, `${doc.generator.name} ${doc.generator.version} · ${doc.time} · report schema version ${doc.schemaVersion}`));
  const render = { inspect: renderInspect, compare: renderCompare, check: renderCheck, files: renderFiles, diff: renderDiff, packages: renderPackages, trend: renderTrend }[doc.kind];
  if (render) render(); else app.appendChild(el('p', null, 'unknown report kind ' + doc.kind));
  const foot = el('footer', { class: 'note' },
    el('div', null, 'Sizes in SI units (1 MB = 1,000,000 bytes). Compressed: what a pull transfers and a registry stores; uncompressed: what the layers unpack to.'));
  for (const m of usedMarks) foot.appendChild(el('div', null, m + ' ' + MEANING[m]));
  app.appendChild(foot);
  document.body.setAttribute('data-rendered', doc.kind);
})();
