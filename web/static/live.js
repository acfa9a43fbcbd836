// What the live pages (board.js, inbox.js) share: the words the page
// carries in #labels, JSON requests whose problem documents become readable
// messages, times in China Standard Time, and the live stream with its
// reconnects. No display text lives here: the server renders it.
'use strict';

window.Fengqiao = (() => {
  const labels = new Map();
  for (const el of document.querySelectorAll('#labels [data-key]')) {
    labels.set(el.dataset.key, el.textContent);
  }
  const label = (key, fallback) => (labels.has(key) ? labels.get(key) : (fallback ?? key));

  const lang = document.documentElement.lang || 'zh-CN';
  const timeFormat = new Intl.DateTimeFormat(lang, {
    timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false,
  });
  const time = (text) => (text ? timeFormat.format(new Date(text)) : '');

  // A refused request: the problem document's Chinese detail and the
  // reason of each field it names.
  class Problem extends Error {
    constructor(status, document) {
      const reasons = (document?.errors ?? []).map((e) => e.reason).filter(Boolean);
      super([document?.detail ?? `${label('error')} (${status})`, ...reasons].join(' '));
      this.status = status;
      this.document = document;
    }
  }

  async function api(method, path, body) {
    const options = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!response.ok) throw new Problem(response.status, json);
    return json;
  }

  // Builds an element; text goes in as text, never as markup.
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // The live stream. `onOpen` runs at every (re)connection: changes made
  // while disconnected were not pushed, so the page reads its list again.
  // `onChange` gets each change, `onReload` runs when the server says this
  // page missed changes.
  function follow({ onOpen, onChange, onReload }) {
    const status = document.getElementById('live');
    const show = (state) => {
      status.dataset.state = state;
      status.textContent = label(`live.${state}`);
    };
    let source;
    const connect = () => {
      source = new EventSource('/api/v1/live');
      source.onopen = async () => {
        try {
          await onOpen();
          show('live');
        } catch (problem) {
          showProblem(problem);
        }
      };
      source.onmessage = (message) => {
        try { onChange(JSON.parse(message.data)); } catch (problem) { showProblem(problem); }
      };
      source.addEventListener('reload', () => (onReload ?? onOpen)().catch(showProblem));
      source.onerror = async () => {
        if (source.readyState === EventSource.CONNECTING) {
          show('offline');
          return;
        }
        // Refused (signed out, or the server restarting): find out which.
        source.close();
        try {
          await api('GET', '/api/v1/me');
          show('offline');
          setTimeout(connect, 3000);
        } catch (problem) {
          if (problem.status === 401) show('signed_out');
          else { show('offline'); setTimeout(connect, 3000); }
        }
      };
    };
    connect();
  }

  function showProblem(problem) {
    const box = document.getElementById('problem');
    if (!box) return;
    box.textContent = problem.message;
    box.hidden = false;
    clearTimeout(showProblem.timer);
    showProblem.timer = setTimeout(() => { box.hidden = true; }, 8000);
  }

  return { label, time, api, el, follow, showProblem, Problem };
})();
