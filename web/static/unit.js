// 我的警力: the crew's phone page. Reads the unit and its job from
// /api/v1/units/mine, again whenever the stream says the unit changed; one
// button per next status; the phone's position every 10 s while open.
'use strict';

(() => {
  const { label, time, api, el, follow, showProblem } = window.Fengqiao;
  const job = document.getElementById('job');
  const taps = document.getElementById('taps');
  const title = document.getElementById('call-sign');
  const statusLine = document.getElementById('unit-status');
  const gps = document.getElementById('gps');
  let unitId = null;

  // The taps the state machine allows from each status (the server checks
  // again; a refusal is shown as it words it).
  const NEXT = {
    dispatched: ['en_route', 'on_scene'],
    en_route: ['on_scene'],
    on_scene: ['transporting', 'resolve', 'available'],
    transporting: ['resolve', 'available'],
    available: ['out_of_service'],
    out_of_service: ['back'],
  };

  const fact = (key, value) => (value ? [el('dt', { text: label(key) }), el('dd', {}, value)] : []);

  function tap(status) {
    const button = el('button', { type: 'button', 'data-tap': status,
      class: status === 'available' || status === 'out_of_service' ? 'secondary' : null,
      text: label(status === 'back' ? 'tap.back' : `tap.${status}`) });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api('POST', `/api/v1/units/${unitId}/status`, { status: status === 'back' ? 'available' : status });
        await load();
      } catch (problem) {
        showProblem(problem);
        button.disabled = false;
      }
    });
    return button;
  }

  function resolveForm() {
    const text = el('textarea', { name: 'result', id: 'result', rows: 3, required: true,
      maxlength: 1000, placeholder: label('result.hint') });
    const button = el('button', { type: 'submit', 'data-tap': 'resolve', text: label('resolve') });
    const form = el('form', { class: 'resolve' },
      el('label', { for: 'result', text: label('result') }), text, button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        await api('POST', `/api/v1/units/${unitId}/resolve`, { result: text.value });
        await load();
      } catch (problem) {
        showProblem(problem);
        button.disabled = false;
      }
    });
    return form;
  }

  function show(mine) {
    const { unit, incident } = mine;
    unitId = unit.id;
    title.textContent = `${unit.call_sign} · ${unit.kind_name}`;
    statusLine.textContent = `${label(`unit.${unit.status}`, unit.status)} · ${label('since')} ${time(unit.status_since)}`;
    statusLine.dataset.status = unit.status;
    if (incident) {
      const map = incident.lat !== null && incident.lat !== undefined
        ? el('a', { href: `geo:${incident.lat},${incident.lon}`, text: label('map') }) : null;
      job.replaceChildren(el('article', { class: 'job card', 'data-incident': incident.id },
        el('h2', { text: label('job') }),
        el('dl', { class: 'facts' },
          fact('receipt', incident.receipt_number),
          fact('text', incident.text),
          fact('location', [incident.location_text, map && ' ', map].filter(Boolean)),
          fact('phone', incident.reporter_phone),
          fact('received', time(incident.received_at)))));
    } else {
      job.replaceChildren(el('p', { class: 'hint', id: 'idle', text: label('idle') }));
    }
    taps.replaceChildren(...(NEXT[unit.status] ?? []).map((s) => (s === 'resolve' ? resolveForm() : tap(s))));
  }

  async function load() {
    try {
      show(await api('GET', '/api/v1/units/mine'));
    } catch (problem) {
      if (problem.status !== 404) throw problem;
      unitId = null;
      job.replaceChildren(el('p', { class: 'hint', id: 'no-unit', text: label('none') }));
      taps.replaceChildren();
    }
  }

  // The phone's position: the latest fix, sent every 10 s while the page
  // is open and the crew allowed it.
  let fix = null;
  let sent = null;
  if ('geolocation' in navigator) {
    navigator.geolocation.watchPosition(
      (position) => {
        fix = { lat: position.coords.latitude, lon: position.coords.longitude };
        gps.textContent = label('gps.on');
      },
      () => { gps.textContent = label('gps.off'); },
      { enableHighAccuracy: true, maximumAge: 10000 });
  }
  setInterval(async () => {
    if (!fix || unitId === null || fix === sent) return;
    const body = { positions: [{ unit_id: unitId, lat: fix.lat, lon: fix.lon }] };
    try {
      await api('POST', '/api/v1/units/positions', body);
      sent = fix;
    } catch (problem) {
      showProblem(problem);
    }
  }, 10000);

  follow({
    onOpen: load,
    onChange: (change) => {
      if (change.kind === 'unit' && change.change !== 'moved' && (unitId === null || change.id === unitId)) load().catch(showProblem);
    },
  });
})();
