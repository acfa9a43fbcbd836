// 接警登记: the desk's form on the board. While the operator types, the
// server's preview (POST /api/v1/incidents/preview) shows the standard
// address with its grid, station and officer, the rules' category with
// the words that decided it, and the earlier calls at the place or from
// the phone. Saving posts to the one intake with an Idempotency-Key kept
// until the incident is made, so a double click makes one incident; the
// incident then opens in the board's pane, where the command room routes
// or dispatches it (its save asks intake to hold it for that).
'use strict';

(() => {
  const { label, el, time } = window.Fengqiao;
  const desk = document.getElementById('desk');
  const form = document.getElementById('desk-form');
  if (!desk || !form) return;
  const field = (name) => form.elements.namedItem(name);
  const anonymous = document.getElementById('desk-anonymous');
  const category = document.getElementById('desk-category');
  const noteBox = document.getElementById('desk-note');
  const save = document.getElementById('desk-save');
  const formError = document.getElementById('desk-error');
  const addressBox = document.getElementById('desk-address');
  const triageBox = document.getElementById('desk-triage');
  const earlierBox = document.getElementById('desk-earlier');
  const callerFields = ['reporter_name', 'reporter_phone', 'reporter_id_number'];
  const newKey = () => (window.crypto?.randomUUID ? window.crypto.randomUUID() : `desk-${Date.now()}-${Math.random()}`);
  let key = newKey();
  let saving = false;

  const value = (name) => {
    const item = field(name);
    if (!item) return '';
    if (item instanceof RadioNodeList) return item.value;
    return item.value.trim();
  };

  function clearErrors() {
    for (const box of form.querySelectorAll('.field-error')) { box.hidden = true; box.textContent = ''; }
    formError.hidden = true;
  }

  // Each refused field's reason at the field; the rest above the button.
  function showProblem(problem) {
    clearErrors();
    const rest = [];
    for (const e of problem?.errors ?? []) {
      const box = form.querySelector(`.field-error[data-field="${e.field}"]`);
      if (box) { box.textContent = e.reason; box.hidden = false; } else rest.push(e.reason);
    }
    if (!problem?.errors?.length || rest.length) {
      formError.textContent = [problem?.detail ?? problem?.title ?? label('error'), ...rest].join(' ');
      formError.hidden = false;
    }
  }

  anonymous.addEventListener('change', () => {
    for (const name of callerFields) {
      const input = field(name);
      if (anonymous.checked) input.value = '';
      input.disabled = anonymous.checked;
    }
    schedule();
  });

  for (const radio of form.querySelectorAll('input[name=settlement]')) {
    radio.addEventListener('change', () => { noteBox.hidden = !value('settlement'); });
  }
  category?.addEventListener('change', () => { category.dataset.touched = 'true'; });

  function showAddress(address, typed) {
    if (!typed) { addressBox.replaceChildren(); return; }
    if (!address) {
      addressBox.replaceChildren(el('span', { text: label('desk.unresolved') }));
      return;
    }
    addressBox.replaceChildren(
      el('span', { class: 'standard', 'data-building': address.building_id, text: address.standard }),
      el('span', {}, [
        address.grid_code && ` · ${label('desk.grid')} ${address.grid_code}`,
        address.station_name && ` · ${label('desk.station')} ${address.station_name}`,
        address.officer && ` · ${label('desk.officer')} ${address.officer}`,
      ].filter(Boolean).join('')));
  }

  function showTriage(triage) {
    if (!triage) { triageBox.replaceChildren(); return; }
    const name = triage.category_name;
    triageBox.replaceChildren(el('p', { class: 'suggestion', 'data-category': triage.category },
      `${label('desk.suggested')}：`, el('strong', { text: name }),
      ` · ${label(`group.${triage.group}`)} · ${triage.priority}${label('priority')}`,
      triage.matched.length
        ? `（${label('desk.decided_by')}：${triage.matched.join('、')}）`
        : `（${label('desk.unread')}）`));
    // The operator's own choice stays; until then the select follows the rules.
    if (category && !category.dataset.touched) category.value = triage.category;
  }

  function showEarlier(preview) {
    if (!preview.earlier.length) {
      earlierBox.replaceChildren(el('p', { class: 'hint', text: label('desk.no_earlier') }));
      return;
    }
    earlierBox.replaceChildren(
      el('p', { class: 'call-number', 'data-call-number': preview.call_number },
        `${label('desk.call_number_pre')}${preview.window_days}${label('desk.call_number_mid')}${preview.call_number}${label('desk.call_number_post')}`),
      el('ul', { class: 'earlier' }, preview.earlier.map((call) => el('li', { 'data-id': call.id },
        el('strong', { text: call.receipt_number }), ' ',
        el('time', { datetime: call.received_at, text: time(call.received_at) }), ' ',
        call.same_place && el('span', { class: 'tag', text: label('desk.same_place') }),
        call.same_caller && el('span', { class: 'tag', text: label('desk.same_caller') }),
        el('span', { class: `status status-${call.status}`, text: label(`status.${call.status}`) }), ' ',
        call.text))));
  }

  // The preview follows typing, at most one request in flight; a reply to
  // an older draft is dropped.
  let timer = null;
  let asked = 0;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  }
  async function preview() {
    const draft = { text: value('text'), location_text: value('location_text'), reporter_phone: value('reporter_phone') };
    if (!draft.text && !draft.location_text && !draft.reporter_phone) return;
    const mine = ++asked;
    if (draft.location_text) addressBox.replaceChildren(el('span', { text: label('desk.resolving') }));
    const response = await fetch('/api/v1/incidents/preview', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(draft),
    }).catch(() => null);
    if (mine !== asked || !response) return;
    const json = await response.json().catch(() => null);
    if (!response.ok) { showProblem(json); return; }
    clearErrors();
    showAddress(json.address, Boolean(draft.location_text));
    showTriage(json.triage);
    showEarlier(json);
    desk.dataset.previewed = String(mine);
  }
  for (const name of ['text', 'location_text', 'reporter_phone']) field(name).addEventListener('input', schedule);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (saving) return;
    clearErrors();
    const body = { source: value('source'), text: value('text'), location_text: value('location_text') };
    for (const name of callerFields) if (value(name)) body[name] = value(name);
    if (category?.value && category.dataset.touched) body.category = category.value;
    // The command room routes or dispatches it from the pane itself.
    if (category) body.hold_for_routing = true;
    if (value('settlement')) {
      body.settlement = value('settlement');
      body.settlement_note = value('settlement_note');
      if (!body.settlement_note) {
        showProblem({ errors: [{ field: 'settlement_note', reason: label('desk.note_required') }] });
        return;
      }
    }
    saving = true;
    save.disabled = true;
    try {
      const response = await fetch('/api/v1/incidents', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(body),
      });
      const json = await response.json().catch(() => null);
      if (!response.ok) { showProblem(json); return; }
      key = newKey();
      form.reset();
      anonymous.dispatchEvent(new Event('change'));
      noteBox.hidden = true;
      if (category) delete category.dataset.touched;
      addressBox.replaceChildren(el('span', { text: `${label('desk.saved')} ${json.receipt_number}` }));
      triageBox.replaceChildren();
      earlierBox.replaceChildren();
      desk.dataset.saved = String(json.id);
      window.Fengqiao.openIncident?.(json.id);
    } catch {
      showProblem({ detail: label('desk.network') });
    } finally {
      saving = false;
      save.disabled = false;
    }
  });
})();
