// 部门工单: the department's work orders with what it may do to each. The
// list is read again after every change the live stream reports, and every
// action answers with the work order as the server now holds it.
'use strict';

(() => {
  const { label, time, api, el, follow } = window.Fengqiao;
  const list = document.getElementById('work-orders');
  const empty = document.getElementById('empty');
  const count = document.getElementById('count');
  const statusFilter = document.getElementById('filter-status');
  const categoryNames = new Map(
    [...document.getElementById('category-names').options].map((o) => [o.value, o.textContent]),
  );

  // What the department may do in each state (the core refuses the rest).
  const ACTIONS = {
    created: ['accept', 'reject'],
    accepted: ['start', 'return', 'reject'],
    in_progress: ['return'],
  };
  // Actions that need a note, and the body field it goes in.
  const NOTES = { return: 'result', reject: 'reason' };

  function fact(key, value) {
    if (value === null || value === undefined || value === '') return [];
    return [el('dt', { text: label(key) }), el('dd', {}, value)];
  }

  function card(order) {
    const late = order.overdue ?? [];
    const problem = el('p', { class: 'error', role: 'alert', hidden: true });
    const actions = el('div', { class: 'actions' });
    const item = el('li', {
      class: `card work-order${late.length ? ' overdue' : ''}`,
      'data-work-order': order.id,
      'data-status': order.status,
    },
    el('div', { class: 'line' },
      el('strong', { class: 'receipt', text: order.receipt_number }),
      el('span', { class: 'category', text: categoryNames.get(order.category) ?? order.category }),
      el('span', { class: `status work-order-${order.status}`, text: label(`work_order.${order.status}`) }),
      late.map((d) => el('span', { class: 'badge overdue', text: label(`deadline.${d}`) }))),
    el('span', { class: 'where', text: order.location_text }),
    el('span', { class: 'what', text: order.incident_text }),
    el('dl', { class: 'facts compact' },
      fact('accept_by', el('time', { datetime: order.accept_by, text: time(order.accept_by), class: late.includes('accept') ? 'late' : null })),
      fact('finish_by', el('time', { datetime: order.finish_by, text: time(order.finish_by), class: late.includes('finish') ? 'late' : null })),
      fact('result', order.result),
      fact('rejection', order.rejection)),
    actions, problem);

    const act = async (action, body, button) => {
      button.disabled = true;
      problem.hidden = true;
      try {
        const updated = await api('POST', `/api/v1/work-orders/${order.id}/${action}`, body);
        item.replaceWith(card(updated));
        applyFilter();
      } catch (refused) {
        problem.textContent = refused.message;
        problem.hidden = false;
        button.disabled = false;
      }
    };

    for (const action of ACTIONS[order.status] ?? []) {
      const button = el('button', {
        type: 'button', class: action === 'reject' ? 'secondary' : null,
        'data-action': action, text: label(`action.${action}`),
      });
      if (!NOTES[action]) {
        button.addEventListener('click', () => act(action, {}, button));
      } else {
        // A note first: the result returned, or why it is not ours.
        button.addEventListener('click', () => {
          const note = el('textarea', { name: NOTES[action], rows: 3, placeholder: label(`note.${action}`), 'aria-label': label(`note.${action}`) });
          const submit = el('button', { type: 'submit', text: label('submit') });
          const cancel = el('button', { type: 'button', class: 'secondary', text: label('cancel') });
          const form = el('form', { class: 'note', 'data-action': action }, note, el('div', { class: 'actions' }, submit, cancel));
          form.addEventListener('submit', (event) => {
            event.preventDefault();
            act(action, { [NOTES[action]]: note.value }, submit);
          });
          cancel.addEventListener('click', () => { form.remove(); actions.hidden = false; });
          actions.hidden = true;
          actions.after(form);
          note.focus();
        });
      }
      actions.append(button);
    }
    return item;
  }

  function applyFilter() {
    let shown = 0;
    for (const item of list.children) {
      item.hidden = Boolean(statusFilter.value) && item.dataset.status !== statusFilter.value;
      if (!item.hidden) shown += 1;
    }
    empty.hidden = shown > 0;
    count.textContent = `${shown} ${label('count')}`;
  }

  // Cards with an open note keep it: a change elsewhere must not throw away
  // what someone is typing.
  async function loadList() {
    const orders = await api('GET', '/api/v1/work-orders');
    const typing = new Set([...list.querySelectorAll('form.note')].map((f) => f.closest('li').dataset.workOrder));
    const cards = orders.map((order) => (typing.has(String(order.id))
      ? list.querySelector(`li[data-work-order="${order.id}"]`)
      : card(order)));
    list.replaceChildren(...cards);
    applyFilter();
    document.getElementById('inbox').dataset.loaded = 'true';
  }

  let pending = null;
  function changed() {
    // Several changes at once (an action moves the work order and its
    // incident) need one read.
    clearTimeout(pending);
    pending = setTimeout(() => loadList().catch(window.Fengqiao.showProblem), 50);
  }

  statusFilter.addEventListener('change', applyFilter);
  follow({ onOpen: loadList, onChange: changed, onReload: loadList });
})();
