// 网格上报 (e治采): file a report from the field and follow the reports of
// the jurisdiction. The address is matched in the registry as it is typed;
// a photo from the camera is re-encoded as JPEG when it is too large or of
// a type the server does not keep; a retried submission carries the same
// Idempotency-Key, so it never files twice.
'use strict';

(() => {
  const { label, time, api, el, follow, showProblem, Problem } = window.Fengqiao;
  const MAX_PHOTO = 5 * 1024 * 1024;
  const KEPT_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

  // ---- the form ----
  const form = document.getElementById('file-report');
  if (form) {
    const address = document.getElementById('address');
    const resolution = document.getElementById('resolution');
    const category = document.getElementById('category');
    const description = document.getElementById('description');
    const photoInput = document.getElementById('photo');
    const preview = document.getElementById('photo-preview');
    const previewImage = document.getElementById('photo-image');
    const removePhoto = document.getElementById('photo-remove');
    const submit = document.getElementById('submit');
    const outcome = document.getElementById('outcome');
    let buildingId = null;
    let photo = null; // a data: URL
    let key = null;
    let asked = 0;
    let timer = null;

    // crypto.randomUUID needs a secure context; intranets often serve http.
    const newKey = () => {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      return `fr-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    };
    // A changed form is a new report; an unchanged one retried is the same.
    const changed = () => { key = null; };

    const kind = () => form.querySelector('input[name="kind"]:checked')?.value;
    function showCategories() {
      let first = null;
      for (const option of category.options) {
        option.hidden = option.dataset.kind !== kind();
        option.disabled = option.hidden;
        if (!option.hidden && !first) first = option;
      }
      if (category.selectedOptions[0]?.hidden !== false) category.value = first?.value ?? '';
    }
    for (const radio of form.querySelectorAll('input[name="kind"]')) {
      radio.addEventListener('change', () => { showCategories(); changed(); });
    }
    showCategories();

    async function resolve() {
      const text = address.value.trim();
      const mine = ++asked;
      buildingId = null;
      if (text.length < 4) { resolution.textContent = ''; return; }
      resolution.textContent = label('resolving');
      try {
        const found = await api('GET', `/api/v1/addresses/resolve?q=${encodeURIComponent(text)}`);
        if (mine !== asked) return; // an older answer arriving late
        const hit = found.registry;
        if (!hit) {
          resolution.textContent = label('unresolved');
          resolution.dataset.state = 'none';
          return;
        }
        buildingId = hit.building_id;
        const place = [hit.compound ?? [hit.road, hit.road_number].filter(Boolean).join(''), hit.building].join(' ');
        const parts = [`${label('resolved')}${place}`];
        if (hit.grid) parts.push(`${label('grid')} ${hit.grid.code}`);
        if (hit.grid?.officer) parts.push(`${label('officer')} ${hit.grid.officer.name ?? hit.grid.officer.username}`);
        resolution.textContent = parts.join(' · ');
        resolution.dataset.state = 'found';
      } catch (problem) {
        if (mine === asked) resolution.textContent = problem.message;
      }
    }
    address.addEventListener('input', () => {
      changed();
      clearTimeout(timer);
      timer = setTimeout(resolve, 350);
    });
    category.addEventListener('change', changed);
    description.addEventListener('input', changed);

    const readAsDataUrl = (blob) => new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    });

    // A phone photo over the limit, or in a type the server refuses (HEIC),
    // is drawn again as a JPEG at most 2560 pixels on its long side.
    async function reencode(file) {
      const bitmap = await createImageBitmap(file);
      const scale = Math.min(1, 2560 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      for (const quality of [0.85, 0.7, 0.5]) {
        const blob = await new Promise((done) => canvas.toBlob(done, 'image/jpeg', quality));
        if (blob && blob.size <= MAX_PHOTO) return blob;
      }
      throw new Error('too large');
    }

    photoInput.addEventListener('change', async () => {
      changed();
      const file = photoInput.files[0];
      photo = null;
      preview.hidden = true;
      if (!file) return;
      outcome.textContent = label('photo.reading');
      try {
        const usable = file.size <= MAX_PHOTO && KEPT_TYPES.includes(file.type);
        photo = await readAsDataUrl(usable ? file : await reencode(file));
        previewImage.src = photo;
        preview.hidden = false;
        outcome.textContent = '';
      } catch {
        photoInput.value = '';
        outcome.textContent = label('photo.unreadable');
      }
    });
    removePhoto.textContent = label('photo.remove');
    removePhoto.addEventListener('click', () => {
      changed();
      photo = null;
      photoInput.value = '';
      preview.hidden = true;
    });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      key ??= newKey();
      const body = {
        kind: kind(),
        category: category.value,
        description: description.value,
        address_text: address.value,
      };
      if (buildingId !== null) body.building_id = buildingId;
      if (photo) body.photo = photo;
      submit.disabled = true;
      outcome.textContent = label('sending');
      try {
        const response = await fetch('/api/v1/field-reports', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': key },
          body: JSON.stringify(body),
        });
        const text = await response.text();
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        if (!response.ok) throw new Problem(response.status, json);
        outcome.textContent = `${label('sent')} ${json.id}`;
        form.reset();
        showCategories();
        photo = null;
        buildingId = null;
        preview.hidden = true;
        resolution.textContent = '';
        key = null;
        if (reports) upsert(json, true);
      } catch (problem) {
        // The key stays: sending the same report again cannot file twice.
        outcome.textContent = problem.message;
      } finally {
        submit.disabled = false;
      }
    });
  }

  // ---- the list ----
  const reports = document.getElementById('reports');
  const empty = document.getElementById('empty');
  const filterKind = document.getElementById('filter-kind');
  const canRegister = document.getElementById('reports-card')?.dataset.register === 'true';
  const canTakeIn = document.getElementById('reports-card')?.dataset.takeIn === 'true';

  // 转为警情: police work or a department's becomes an incident through the
  // one intake, once per report (the server answers a second time with the
  // first incident).
  function takeInButton(report) {
    const outcome = el('span', { class: 'hint', role: 'status' });
    const button = el('button', { type: 'button', class: 'secondary take-in', text: label('take_in') });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api('POST', `/api/v1/field-reports/${report.id}/incident`);
        upsert(await api('GET', `/api/v1/field-reports/${report.id}`), true);
      } catch (problem) {
        outcome.textContent = problem.message;
        button.disabled = false;
      }
    });
    return el('p', {}, button, outcome);
  }
  const known = new Map();

  // 登记为纠纷: the station turns a report of a dispute into a case through
  // the disputes API, naming the parties and the risk the report lacks.
  function registerForm(report) {
    const party = el('input', { name: 'party', required: true, maxlength: 50 });
    const other = el('input', { name: 'other_party', maxlength: 50 });
    const risk = el('select', { name: 'risk_level' },
      ['low', 'medium', 'high', 'critical'].map((level) => el('option', { value: level, text: label(`risk.${level}`) })));
    const reason = el('input', { name: 'risk_reason', required: true, maxlength: 500 });
    const outcome = el('p', { class: 'hint', role: 'status' });
    const form = el('form', { class: 'register' },
      el('label', {}, label('party'), party),
      el('label', {}, label('other_party'), other),
      el('label', {}, label('risk_level'), risk),
      el('label', {}, label('risk_reason'), reason),
      el('button', { type: 'submit', text: label('register') }),
      outcome);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const parties = [party.value, other.value].map((name) => name.trim()).filter(Boolean).map((name) => ({ name }));
      try {
        await api('POST', '/api/v1/disputes', {
          source: 'field_report',
          field_report_id: report.id,
          dispute_type: report.category,
          parties,
          risk_level: risk.value,
          risk_reason: reason.value,
        });
        upsert(await api('GET', `/api/v1/field-reports/${report.id}`), true);
      } catch (problem) {
        outcome.textContent = problem.message;
      }
    });
    return el('details', { class: 'register' }, el('summary', { text: label('register') }), form);
  }

  function row(report) {
    return el('li', { class: `field-report kind-${report.kind}`, 'data-id': report.id, 'data-kind': report.kind },
      el('p', { class: 'line' },
        el('span', { class: `tag kind-${report.kind}`, text: report.kind_name }),
        el('span', { class: 'category', text: report.category_name }),
        el('time', { datetime: report.reported_at, text: time(report.reported_at) }),
        report.dispute_id && el('a', { class: 'status', href: `/disputes/${report.dispute_id}`, text: label('dispute_registered') }),
        report.incident_id && el('span', { class: 'status', 'data-incident': report.incident_id, text: `${label('incident_made')} #${report.incident_id}` })),
      el('p', { class: 'where', text: report.address || report.address_text }),
      el('p', { class: 'description', text: report.description }),
      report.photo && el('a', { href: report.photo.url, target: '_blank', rel: 'noopener' },
        el('img', { class: 'thumb', src: report.photo.url, alt: report.category_name, loading: 'lazy' })),
      el('p', { class: 'hint', text: `${label('reporter')} ${report.reporter?.name ?? ''}（${report.reporter?.username ?? ''}）` }),
      canRegister && report.kind === 'dispute' && !report.dispute_id && registerForm(report),
      canTakeIn && !report.incident_id && takeInButton(report));
  }

  function applyFilter() {
    let shown = 0;
    for (const item of reports.children) {
      item.hidden = Boolean(filterKind.value) && item.dataset.kind !== filterKind.value;
      if (!item.hidden) shown += 1;
    }
    empty.hidden = shown > 0;
  }

  function upsert(report, fresh) {
    known.set(report.id, report);
    reports.querySelector(`li[data-id="${report.id}"]`)?.remove();
    const item = row(report);
    if (fresh) item.classList.add('fresh');
    const next = [...reports.children].find((li) => Number(li.dataset.id) < report.id);
    reports.insertBefore(item, next ?? null);
    applyFilter();
  }

  async function load() {
    const list = await api('GET', '/api/v1/field-reports');
    reports.replaceChildren();
    known.clear();
    for (const report of list) upsert(report, false);
    applyFilter();
  }

  if (reports) {
    filterKind.addEventListener('change', applyFilter);
    follow({
      onOpen: load,
      onChange: async (change) => {
        if (change.kind !== 'field_report') return;
        try {
          upsert(await api('GET', `/api/v1/field-reports/${change.id}`), true);
        } catch (problem) {
          if (problem.status !== 404) showProblem(problem);
        }
      },
    });
  }
})();
