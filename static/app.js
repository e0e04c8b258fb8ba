// Small behaviours without inline scripts (the CSP forbids them).

function flashLabel(button, text) {
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = text;
  setTimeout(() => { button.textContent = label; }, 1500);
}

function announce(button, text) {
  const status = button.dataset.copyStatus && document.querySelector(button.dataset.copyStatus);
  if (status) status.textContent = text;
}

// <button data-copy="#input">: copy the input's value.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  source.select();
  const done = () => flashLabel(button, "Copied");
  if (navigator.clipboard) {
    navigator.clipboard.writeText(source.value).then(done, () => { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});

// <button data-copy-url="/path.json" data-copy-status="#status">: fetch the URL (same
// origin, with the session cookie) and copy the text it answers, e.g. a support bundle.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-url]");
  if (!button) return;
  const text = fetch(button.dataset.copyUrl, { credentials: "same-origin" }).then((response) => {
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.text();
  });
  let copied;
  if (window.ClipboardItem && navigator.clipboard && navigator.clipboard.write) {
    // A promise inside the item keeps the click's permission while the fetch runs.
    const blob = text.then((body) => new Blob([body], { type: "text/plain" }));
    copied = navigator.clipboard.write([new ClipboardItem({ "text/plain": blob })]);
  } else if (navigator.clipboard) {
    copied = text.then((body) => navigator.clipboard.writeText(body));
  } else {
    copied = Promise.reject(new Error("no clipboard"));
  }
  copied.then(() => {
    flashLabel(button, "Copied");
    announce(button, "Support bundle copied to the clipboard.");
  }, () => {
    flashLabel(button, "Copy failed");
    announce(button, "Could not copy: use Download bundle.json instead.");
  });
});
