// 纠纷详情: each form posts its fields as JSON to the dispute API and, once
// the server has taken it, reloads the page so it shows what the server now
// holds. A refusal shows the API's own problem document, field by field.
'use strict';

(() => {
  // A time typed on the page is China time.
  const rfc3339 = (local) => (local ? `${local.length === 16 ? `${local}:00` : local}+08:00` : null);

  const body = (form) => {
    const out = {};
    for (const field of form.elements) {
      if (!field.name) continue;
      const value = field.value.trim();
      if (value === '') continue;
      if (field.hasAttribute('data-time')) out[field.name] = rfc3339(value);
      else if (field.hasAttribute('data-number')) out[field.name] = Number(value);
      else if (field.hasAttribute('data-boolean')) out[field.name] = value === 'true';
      else if (field.hasAttribute('data-days')) {
        out[field.name] = value.split(/[,，、\s]+/).filter(Boolean).map(Number);
      } else out[field.name] = value;
    }
    return out;
  };

  const explain = (problem) => {
    const fields = (problem.errors ?? []).map((e) => `${e.field}：${e.reason}`);
    return [problem.detail ?? problem.title ?? '操作失败', ...fields].join(' ');
  };

  for (const form of document.querySelectorAll('form.api-form')) {
    // One key per form as shown: a retried submission records nothing twice.
    const key = form.hasAttribute('data-idempotent') && window.crypto?.randomUUID
      ? window.crypto.randomUUID() : null;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = form.querySelector('.error');
      const button = form.querySelector('button[type="submit"]');
      error.hidden = true;
      button.disabled = true;
      const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
      if (key) headers['Idempotency-Key'] = key;
      try {
        const response = await fetch(form.dataset.api, {
          method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body(form)),
        });
        if (response.ok) {
          window.location.reload();
          return;
        }
        const problem = await response.json().catch(() => ({}));
        error.textContent = explain(problem);
        error.hidden = false;
      } catch (_) {
        error.textContent = '网络连接失败，请稍后重试。';
        error.hidden = false;
      }
      button.disabled = false;
    });
  }
})();
