// 指挥室 · 实时警情: the jurisdiction's incidents, kept current by the live
// stream. A change names an incident; the board reads that incident again
// and puts it in its place, so the list is always what the API says.
'use strict';

(() => {
  const { label, time, api, el, follow, showProblem } = window.Fengqiao;
  const board = document.getElementById('board');
  const list = document.getElementById('incidents');
  const empty = document.getElementById('empty');
  const detail = document.getElementById('detail');
  const count = document.getElementById('count');
  const filters = {
    status: document.getElementById('filter-status'),
    category: document.getElementById('filter-category'),
    group: document.getElementById('filter-group'),
  };
  const categoryNames = new Map(
    [...filters.category.options].filter((o) => o.value).map((o) => [o.value, o.textContent]),
  );
  // The command room may triage and route from the detail pane.
  const mayDispatch = board.dataset.dispatch === 'true';
  // The community officer and the operator may register a dispute case.
  const mayRegisterCases = board.dataset.cases === 'true';
  const incidents = new Map(); // id → summary as the API gives it
  let openId = null;
  let loaded = false;
  let loading = null; // the list being read; changes wait for it

  const newestFirst = (a, b) => b.received_at.localeCompare(a.received_at) || b.id - a.id;

  function row(incident) {
    const triage = incident.triage;
    const group = triage?.group ?? '';
    const item = el('li', {
      class: `incident priority-${triage?.priority ?? 0}`,
      'data-id': incident.id,
      'data-status': incident.status,
      'data-category': triage?.category ?? '',
      'data-group': group,
      'aria-current': incident.id === openId ? 'true' : null,
    });
    const button = el('button', { type: 'button', class: 'incident-open' },
      el('span', { class: 'line' },
        el('span', { class: 'receipt', text: incident.receipt_number }),
        el('time', { datetime: incident.received_at, text: time(incident.received_at) }),
        triage && el('span', { class: 'priority', text: `${triage.priority}${label('priority')}` }),
        group && el('span', { class: `tag group-${group}`, text: label(`group.${group}`) }),
        triage && el('span', { class: 'category', text: categoryNames.get(triage.category) ?? triage.category }),
        el('span', { class: `status status-${incident.status}`, text: label(`status.${incident.status}`) })),
      el('span', { class: 'where', text: incident.location.text }),
      el('span', { class: 'what', text: incident.text }));
    button.addEventListener('click', () => open(incident.id));
    item.append(button);
    return item;
  }

  function visible(incident) {
    const { status, category, group } = filters;
    return (!status.value || incident.status === status.value)
      && (!category.value || incident.triage?.category === category.value)
      && (!group.value || incident.triage?.group === group.value);
  }

  function applyFilters() {
    let shown = 0;
    for (const item of list.children) {
      const incident = incidents.get(Number(item.dataset.id));
      item.hidden = !visible(incident);
      if (!item.hidden) shown += 1;
    }
    empty.hidden = shown > 0;
    count.textContent = `${shown} ${label('count')}`;
  }

  // Puts one incident in its place, replacing its old row.
  function upsert(incident, fresh) {
    const summary = { ...incident, work_orders: undefined, timeline: undefined, org_names: undefined };
    incidents.set(incident.id, summary);
    list.querySelector(`li[data-id="${incident.id}"]`)?.remove();
    const item = row(summary);
    if (fresh) item.classList.add('fresh');
    const next = [...list.children].find((li) => newestFirst(summary, incidents.get(Number(li.dataset.id))) < 0);
    list.insertBefore(item, next ?? null);
    applyFilters();
  }

  function loadList() {
    loading = readList().finally(() => { loading = null; });
    return loading;
  }

  async function readList() {
    const all = await api('GET', '/api/v1/incidents');
    incidents.clear();
    list.replaceChildren(...all.sort(newestFirst).map((incident) => {
      incidents.set(incident.id, incident);
      return row(incident);
    }));
    applyFilters();
    loaded = true;
    board.dataset.loaded = 'true';
    if (openId !== null) await open(openId);
  }

  // 实时地图 and the units' list, drawn again at most every two seconds
  // while changes arrive.
  const mapBox = document.getElementById('map');
  const unitList = document.getElementById('unit-list');
  let mapTimer = null;
  async function drawMap() {
    mapTimer = null;
    const response = await fetch('/board/map.svg', { credentials: 'same-origin' });
    if (!response.ok) return;
    const svg = new DOMParser().parseFromString(await response.text(), 'image/svg+xml').documentElement;
    mapBox.replaceChildren(document.importNode(svg, true));
    if (!unitList) return;
    const units = await api('GET', '/api/v1/units');
    const now = Date.now();
    unitList.replaceChildren(...units.map((u) => {
      const minutes = Math.floor((now - Date.parse(u.status_since)) / 60000);
      const late = ['dispatched', 'en_route'].includes(u.status) && minutes >= 5;
      return el('li', { class: `unit-line unit-${u.status}${late ? ' late' : ''}`, 'data-unit': u.id },
        el('strong', { text: u.call_sign }),
        el('span', { class: 'status', text: label(`unit.${u.status}`, u.status) }),
        el('span', { class: 'hint', text: `${minutes} ${label('units.minutes')}` }),
        late && el('span', { class: 'badge overdue', text: label('units.late') }),
        u.incident_id && el('a', { href: '#', 'data-open': u.incident_id, text: `#${u.incident_id}` }));
    }));
  }
  function scheduleMap() {
    if (mapTimer === null) mapTimer = setTimeout(() => drawMap().catch(showProblem), 2000);
  }
  unitList?.addEventListener('click', (event) => {
    const link = event.target.closest('[data-open]');
    if (!link) return;
    event.preventDefault();
    open(Number(link.dataset.open));
  });

  async function changed(change) {
    if (change.kind === 'unit' || change.kind === 'incident') scheduleMap();
    const id = change.incident_id;
    if (id === null || id === undefined) return;
    // A change pushed while the list is read applies after it, or the
    // list would overwrite it.
    if (loading) await loading.catch(() => {});
    try {
      const incident = await api('GET', `/api/v1/incidents/${id}`);
      upsert(incident, loaded && !incidents.has(id));
      if (openId === id) showDetail(incident);
    } catch (problem) {
      // Handed out of the jurisdiction since: it leaves the board.
      if (problem.status === 404) {
        incidents.delete(id);
        list.querySelector(`li[data-id="${id}"]`)?.remove();
        applyFilters();
      } else {
        showProblem(problem);
      }
    }
  }

  function fact(key, value) {
    if (value === null || value === undefined || value === '') return [];
    return [el('dt', { text: label(key) }), el('dd', {}, value)];
  }

  function actorName(actor) {
    const [kind, id] = actor.split(':');
    if (kind === 'system') return label('actor.system');
    return `${label(`actor.${kind}`, kind)} #${id}`;
  }

  function orgName(incident, id) {
    return incident.org_names?.[id] ?? `${label('unnamed_org')} #${id}`;
  }

  function workOrder(incident, order) {
    const late = order.overdue ?? [];
    return el('li', { class: `work-order${late.length ? ' overdue' : ''}`, 'data-work-order': order.id },
      el('div', { class: 'line' },
        el('strong', { text: orgName(incident, order.owner_org_id) }),
        el('span', { class: `status work-order-${order.status}`, text: label(`work_order.${order.status}`) }),
        late.map((d) => el('span', { class: 'badge overdue', text: label(`deadline.${d}`) }))),
      el('dl', { class: 'facts compact' },
        fact('accept_by', el('time', { datetime: order.accept_by, text: time(order.accept_by), class: late.includes('accept') ? 'late' : null })),
        fact('finish_by', el('time', { datetime: order.finish_by, text: time(order.finish_by), class: late.includes('finish') ? 'late' : null }))));
  }

  function timelineEntry(incident, entry) {
    const d = entry.detail ?? {};
    const org = d.to_org ?? d.owner_org_id ?? d.org_id;
    const note = d.result ?? d.reason ?? d.note;
    return el('li', { 'data-event': entry.event },
      el('time', { datetime: entry.at, text: time(entry.at) }),
      el('span', { class: 'event', text: label(`event.${entry.event}`, entry.event) }),
      d.call_sign && el('span', { class: 'unit', text: d.call_sign }),
      org !== undefined && el('span', { class: 'org', text: orgName(incident, org) }),
      el('span', { class: 'actor', text: actorName(entry.actor) }),
      note && el('span', { class: 'note', text: note }));
  }

  const awaitsRouting = (incident) => incident.status === 'triaged' || incident.status === 'reopened';
  const sentBack = (incident) => (incident.awaiting_reroute ?? []).length > 0;
  const routable = (incident) => awaitsRouting(incident) || sentBack(incident)
    || ['dispatched', 'diverted', 'in_progress'].includes(incident.status);

  // Reads the incident again after an action, so the pane and its row show
  // what the server now says (the action's answer lacks the names).
  async function refresh(id) {
    const incident = await api('GET', `/api/v1/incidents/${id}`);
    upsert(incident, false);
    if (openId === id) showDetail(incident);
  }

  function errorBox() {
    return el('p', { class: 'error', role: 'alert', hidden: true });
  }

  function fail(box, message) {
    box.textContent = message;
    box.hidden = false;
  }

  // 改分类: the triage table's categories, as the filter lists them.
  function categoryForm(incident, kept) {
    const select = el('select', { name: 'category', id: 'dispatch-category' });
    for (const group of filters.category.querySelectorAll('optgroup')) select.append(group.cloneNode(true));
    select.value = kept.category ?? incident.triage.category;
    if (kept.category) select.dataset.touched = 'true';
    select.addEventListener('change', () => { select.dataset.touched = 'true'; });
    const button = el('button', { type: 'submit', class: 'secondary', text: label('dispatch.override') });
    const error = errorBox();
    const form = el('form', { class: 'dispatch-category' },
      el('label', { for: 'dispatch-category', text: label('dispatch.category') }),
      el('div', { class: 'row' }, select, button),
      error);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        await api('POST', `/api/v1/incidents/${incident.id}/triage`, { category: select.value });
        await refresh(incident.id);
      } catch (problem) {
        fail(error, problem.message);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function ownerChoice(choice, checked) {
    const box = el('input', { type: 'checkbox', name: 'owner', value: choice.id,
      checked: checked && !choice.holds_open_work_order, disabled: choice.holds_open_work_order });
    return el('li', { 'data-org': choice.id },
      el('label', { class: 'owner' }, box,
        el('span', { class: 'name', text: choice.name }),
        choice.suggested && el('span', { class: 'tag suggested', text: label('dispatch.suggested_owner') }),
        choice.holds_open_work_order && el('span', { class: 'hint', text: label('dispatch.holds') })));
  }

  // 分流 / 联动 / 重新分流: the organisations that may take the incident's
  // category at its place, the routing's own choice first.
  function routeForm(incident, kept) {
    const owners = el('ul', { class: 'owners' }, el('li', { class: 'hint', text: label('dispatch.loading') }));
    const action = awaitsRouting(incident) ? 'dispatch.route' : sentBack(incident) ? 'dispatch.reroute' : 'dispatch.link';
    const button = el('button', { type: 'submit', text: label(action) });
    const error = errorBox();
    const form = el('form', { class: 'dispatch-route', 'data-category': incident.triage.category },
      el('fieldset', {}, el('legend', { text: label('dispatch.owners') }), owners),
      button, error);
    if (kept.owners) form.dataset.touched = 'true';
    form.addEventListener('change', () => { form.dataset.touched = 'true'; });
    const category = encodeURIComponent(incident.triage.category);
    api('GET', `/api/v1/incidents/${incident.id}/owners?category=${category}`)
      .then((choices) => {
        const list = choices.organisations;
        owners.replaceChildren(...list.map((choice) => ownerChoice(choice,
          kept.owners ? kept.owners.has(choice.id) : (awaitsRouting(incident) && choice.suggested))));
        if (!list.length) owners.replaceChildren(el('li', { class: 'hint', text: label('dispatch.no_owners') }));
      })
      .catch((problem) => fail(error, problem.message));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      const chosen = [...form.querySelectorAll('input[name=owner]:checked')].map((box) => Number(box.value));
      if (!chosen.length) {
        fail(error, label('dispatch.none_chosen'));
        return;
      }
      button.disabled = true;
      try {
        await api('POST', `/api/v1/incidents/${incident.id}/route`, { owner_org_ids: chosen });
        await refresh(incident.id);
      } catch (problem) {
        fail(error, problem.message);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  // 派警: police work the command room held goes to its own units.
  function dispatchForm(incident) {
    const button = el('button', { type: 'submit', text: label('dispatch.dispatch') });
    const error = errorBox();
    const form = el('form', { class: 'dispatch-police' },
      el('p', { class: 'hint', text: label('dispatch.police') }), button, error);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        await api('POST', `/api/v1/incidents/${incident.id}/dispatch`);
        await refresh(incident.id);
      } catch (problem) {
        fail(error, problem.message);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  // What the operator had chosen but not sent, so a live update of the
  // same incident does not throw it away.
  function keptChoices(incident) {
    if (detail.dataset.id !== String(incident.id)) return {};
    const select = detail.querySelector('#dispatch-category[data-touched]');
    // Ticks made for another category are not this one's.
    const route = detail.querySelector(`form.dispatch-route[data-touched][data-category="${incident.triage.category}"]`);
    return {
      category: select?.value,
      owners: route && new Set([...route.querySelectorAll('input[name=owner]:checked')].map((b) => Number(b.value))),
    };
  }

  function dispatchSection(incident) {
    if (!mayDispatch || !incident.triage || !routable(incident)) return null;
    const kept = keptChoices(incident);
    const first = (incident.timeline ?? []).find((e) => e.event === 'triaged');
    const words = [...new Set(incident.triage.matched ?? [])];
    let suggestion = null;
    if (first?.detail?.by === 'rules') {
      const code = first.detail.category?.code;
      suggestion = el('p', { class: 'suggestion' },
        `${label('dispatch.suggested')}：`,
        el('strong', { text: categoryNames.get(code) ?? code }),
        words.length ? `（${label('dispatch.decided_by')}：${words.join('、')}）` : `（${label('dispatch.unread')}）`);
    }
    const state = awaitsRouting(incident) ? 'dispatch.waiting' : sentBack(incident) ? 'dispatch.sent_back' : null;
    return el('section', { class: 'dispatch', 'aria-label': label('dispatch.title') },
      el('h3', { text: label('dispatch.title') }),
      state && el('p', { class: 'waiting', text: label(state) }),
      suggestion,
      awaitsRouting(incident) && categoryForm(incident, kept),
      // Waiting police work is dispatched; departments join it afterwards.
      awaitsRouting(incident) && incident.triage.group === 'police'
        ? dispatchForm(incident)
        : routeForm(incident, kept));
  }

  // 派警 · 推荐警力: the available units ranked by estimated arrival (the
  // method and minutes as the server computed them), the ones on the
  // incident now, and the war zone's when the station is overloaded. Ticks
  // survive a live re-render of the same incident.
  const chosenUnits = new Map();
  const sendsUnits = (incident) => ['dispatched', 'diverted', 'in_progress'].includes(incident.status);

  function unitChoice(incident, r) {
    const chosen = chosenUnits.get(incident.id) ?? new Set();
    const box = el('input', { type: 'checkbox', name: 'unit', value: r.unit.id,
      checked: chosen.has(r.unit.id), 'data-reinforcement': r.reinforcement ? 'true' : null });
    box.addEventListener('change', () => {
      const set = chosenUnits.get(incident.id) ?? new Set();
      if (box.checked) set.add(r.unit.id); else set.delete(r.unit.id);
      chosenUnits.set(incident.id, set);
    });
    return el('li', { class: `unit-choice${r.within_standard ? '' : ' late'}`, 'data-unit': r.unit.id },
      el('label', { class: 'owner' }, box,
        el('strong', { class: 'call-sign', text: r.unit.call_sign }),
        el('span', { class: 'hint', text: r.unit.kind_name }),
        el('span', { class: 'eta', text: `${r.minutes} ${label('units.minutes')}` }),
        el('span', { class: `badge ${r.within_standard ? 'ok' : 'overdue'}`, text: label(r.within_standard ? 'units.within' : 'units.late') }),
        r.reinforcement && el('span', { class: 'tag', text: label('units.reinforcement') })));
  }

  function unitsSection(incident) {
    if (!mayDispatch || !incident.triage || !sendsUnits(incident)) return null;
    const body = el('div', { class: 'units-body' }, el('p', { class: 'hint', text: label('dispatch.loading') }));
    const error = errorBox();
    const section = el('section', { class: 'units', 'aria-label': label('units.title') },
      el('h3', { text: label('units.title') }), body, error);
    const chosen = (reinforcement) => [...section.querySelectorAll('input[name=unit]:checked')]
      .filter((b) => (b.dataset.reinforcement === 'true') === reinforcement)
      .map((b) => Number(b.value));
    const act = async (button, run) => {
      error.hidden = true;
      button.disabled = true;
      try {
        await run();
        chosenUnits.delete(incident.id);
        await refresh(incident.id);
      } catch (problem) {
        fail(error, problem.message);
      } finally {
        button.disabled = false;
      }
    };
    api('GET', `/api/v1/incidents/${incident.id}/recommendations`)
      .then((found) => {
        const parts = [];
        if (found.assigned.length) {
          parts.push(el('p', { class: 'assigned' }, `${label('units.assigned')}：`,
            found.assigned.map((u) => el('span', { class: 'tag unit-on', 'data-unit': u.id },
              `${u.call_sign} · ${label(`unit.${u.status}`, u.status)}`))));
        }
        if (found.overloaded && found.war_zone_name) {
          parts.push(el('p', { class: 'waiting', text: `${label('units.overloaded')}（${found.war_zone_name}）` }));
        }
        if (!found.units.length) {
          parts.push(el('p', { class: 'hint', text: label('units.none') }));
          body.replaceChildren(...parts);
          return;
        }
        parts.push(el('p', { class: 'hint method', text: found.units[0].method }));
        parts.push(el('ul', { class: 'owners recommended' }, found.units.map((r) => unitChoice(incident, r))));
        const send = el('button', { type: 'button', id: 'send-units', text: label('units.send') });
        send.addEventListener('click', () => {
          const ids = chosen(false);
          if (!ids.length) return fail(error, label('units.none_chosen'));
          act(send, () => api('POST', `/api/v1/incidents/${incident.id}/units`, { unit_ids: ids }));
        });
        parts.push(send);
        if (found.units.some((r) => r.reinforcement)) {
          const ask = el('button', { type: 'button', class: 'secondary', id: 'ask-reinforcement', text: label('units.request') });
          ask.addEventListener('click', () => {
            const ids = chosen(true);
            if (!ids.length) return fail(error, label('units.none_chosen'));
            act(ask, () => api('POST', `/api/v1/incidents/${incident.id}/reinforcements`,
              { unit_ids: ids, reason: label('units.reason') }));
          });
          parts.push(ask);
        }
        body.replaceChildren(...parts);
      })
      .catch((problem) => { body.replaceChildren(); fail(error, problem.message); });
    return section;
  }

  // 登记矛盾纠纷: a case from this incident, the caller a party (the
  // server reads the caller from the incident's record: the page only
  // ever has the masked words), the type suggested from the category, the
  // risk level with its reason. The server answers a second registration
  // with the first case.
  const caseKeys = new Map();
  function caseSection(incident) {
    if (!mayRegisterCases || !incident.triage) return null;
    // A live update of the same incident keeps what was typed.
    const shown = detail.querySelector(`form.case-form[data-incident="${incident.id}"]`);
    if (shown) return shown;
    const choices = (name) => document.querySelector(`#case-choices [data-choices="${name}"]`).cloneNode(true);
    const type = choices('dispute_type');
    type.name = 'dispute_type';
    const suggested = filters.category.querySelector(`option[value="${incident.triage.category}"]`)?.dataset.disputeType;
    if (suggested) type.value = suggested;
    const risk = choices('risk_level');
    risk.name = 'risk_level';
    const reason = el('textarea', { name: 'risk_reason', rows: 2, maxlength: 500 });
    const named = Boolean(incident.reporter_name);
    const reporter = el('input', { type: 'checkbox', name: 'reporter_as_party', checked: named, disabled: !named });
    const partyName = el('input', { name: 'party_name', maxlength: 50 });
    const partyPhone = el('input', { name: 'party_phone', inputmode: 'tel', maxlength: 20 });
    const button = el('button', { type: 'submit', text: label('case.submit') });
    const error = errorBox();
    const done = el('p', { class: 'hint', hidden: true });
    const caller = [incident.reporter_name, incident.reporter_phone, incident.reporter_id_number].filter(Boolean).join(' ');
    const form = el('form', { class: 'case-form', 'data-incident': incident.id, 'aria-label': label('case.title') },
      el('h3', { text: label('case.title') }),
      el('label', { class: 'choice' }, reporter,
        named ? `${label('case.reporter')}：${caller}` : label('case.reporter_unnamed')),
      el('label', {}, label('case.type'), type),
      el('label', {}, label('case.risk'), risk),
      el('label', {}, label('case.reason'), reason),
      el('label', {}, label('case.party'), partyName),
      el('label', {}, label('case.party_phone'), partyPhone),
      button, error, done);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      const parties = partyName.value.trim()
        ? [{ name: partyName.value.trim(), phone: partyPhone.value.trim() || undefined }] : [];
      const body = {
        source: 'incident', incident_id: incident.id, dispute_type: type.value,
        risk_level: risk.value, risk_reason: reason.value.trim(),
        reporter_as_party: reporter.checked, parties,
      };
      if (!caseKeys.has(incident.id)) caseKeys.set(incident.id, window.crypto?.randomUUID?.() ?? `case-${Date.now()}`);
      button.disabled = true;
      try {
        const response = await fetch('/api/v1/disputes', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Idempotency-Key': caseKeys.get(incident.id) },
          body: JSON.stringify(body),
        });
        const json = await response.json().catch(() => null);
        if (!response.ok) throw new window.Fengqiao.Problem(response.status, json);
        caseKeys.delete(incident.id);
        done.replaceChildren(`${label('case.registered')} #${json.id} · `,
          el('a', { href: `/disputes/${json.id}`, id: 'case-link', text: label('case.open') }));
        done.hidden = false;
      } catch (problem) {
        fail(error, problem.message);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  // 当场答复 / 告知转办 from the pane: a question awaiting routing ends here.
  function settleForm(incident) {
    if (!mayDispatch || !awaitsRouting(incident)) return null;
    const how = el('select', { name: 'settlement' },
      ['answered', 'referred'].map((code) => el('option', { value: code, text: label(`settlement.${code}`) })));
    const note = el('textarea', { name: 'settlement_note', rows: 2, maxlength: 1000 });
    const button = el('button', { type: 'submit', class: 'secondary', text: label('submit') });
    const error = errorBox();
    const form = el('form', { class: 'dispatch-settle' },
      el('div', { class: 'row' }, how), note, button, error);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      try {
        await api('POST', `/api/v1/incidents/${incident.id}/settle`, { settlement: how.value, settlement_note: note.value.trim() });
        await refresh(incident.id);
      } catch (problem) {
        fail(error, problem.message);
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  function showDetail(incident) {
    const triage = incident.triage;
    const close = el('button', { type: 'button', class: 'secondary close', text: label('close') });
    close.addEventListener('click', closeDetail);
    const orders = incident.work_orders ?? [];
    detail.replaceChildren(...[
      el('div', { class: 'detail-head' },
        el('h2', { text: incident.receipt_number }),
        el('span', { class: `status status-${incident.status}`, text: label(`status.${incident.status}`) }),
        close),
      el('dl', { class: 'facts' },
        fact('received_at', time(incident.received_at)),
        fact('source', label(`source.${incident.source}`, incident.source)),
        fact('location', incident.location.text),
        fact('reporter', [incident.reporter_name, incident.reporter_phone, incident.reporter_id_number].filter(Boolean).join(' ')),
        fact('category', triage && `${categoryNames.get(triage.category) ?? triage.category} · ${label(`group.${triage.group}`)} · ${triage.priority}${label('priority')}`),
        fact('matched', [...new Set(triage?.matched ?? [])].join('、')),
        fact('owner', incident.owner_org_id && orgName(incident, incident.owner_org_id)),
        fact('text', incident.text)),
      unitsSection(incident),
      dispatchSection(incident),
      settleForm(incident),
      caseSection(incident),
      el('h3', { text: label('work_orders') }),
      orders.length
        ? el('ul', { class: 'work-orders' }, orders.map((o) => workOrder(incident, o)))
        : el('p', { class: 'hint', text: label('empty.work_orders') }),
      el('h3', { text: label('timeline') }),
      el('ol', { class: 'timeline' }, (incident.timeline ?? []).map((e) => timelineEntry(incident, e)))].filter(Boolean));
    detail.dataset.id = incident.id;
    detail.hidden = false;
    board.classList.add('detail-open');
  }

  async function open(id) {
    openId = id;
    for (const li of list.children) {
      if (Number(li.dataset.id) === id) li.setAttribute('aria-current', 'true');
      else li.removeAttribute('aria-current');
    }
    try {
      showDetail(await api('GET', `/api/v1/incidents/${id}`));
    } catch (problem) {
      showProblem(problem);
    }
  }

  function closeDetail() {
    openId = null;
    detail.hidden = true;
    board.classList.remove('detail-open');
    for (const li of list.querySelectorAll('[aria-current]')) li.removeAttribute('aria-current');
  }

  for (const select of Object.values(filters)) select.addEventListener('change', applyFilters);
  document.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeDetail(); });
  // Deadlines pass without a change being pushed: read the open incident
  // again now and then, so its overdue marks (the server's) stay true.
  setInterval(() => { if (openId !== null) open(openId); }, 30000);

  // The desk (desk.js) opens the incident it saved.
  window.Fengqiao.openIncident = open;

  const reload = () => { drawMap().catch(showProblem); return loadList(); };
  follow({ onOpen: reload, onChange: changed, onReload: reload });
})();
