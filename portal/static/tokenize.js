// Card details go from the browser straight to the payment processor's tokenizer; the
// portal's own form then posts only the token it returned (and the name on the card).
(function () {
  "use strict";

  // The secret fields lose their names, so no submit of the form can carry them.
  function unname(root) {
    root.querySelectorAll("form[data-tokenizer] [data-secret]").forEach(function (input) {
      input.removeAttribute("name");
    });
  }

  function mark(input, message) {
    var box = input.closest(".field");
    var note = document.getElementById(input.id + "-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.id = input.id + "-error";
      box.appendChild(note);
    }
    note.textContent = message;
    box.classList.add("has-error");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", note.id);
  }

  function clear(form) {
    form.querySelectorAll(".field.has-error").forEach(function (box) {
      box.classList.remove("has-error");
      box.querySelectorAll("p.error").forEach(function (note) { note.remove(); });
      box.querySelectorAll("[aria-invalid]").forEach(function (input) {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
    });
  }

  // problems: field name (data-tokenize, or the input's name) -> message
  function show(form, problems) {
    var first = null;
    Object.keys(problems).forEach(function (key) {
      var input = form.querySelector('[data-tokenize="' + key + '"]') ||
        form.querySelector('[name$="-' + key + '"]') || form.querySelector("[data-tokenize]");
      mark(input, problems[key]);
      first = first || input;
    });
    first.focus();
  }

  function tokenize(form, button) {
    var body = { type: "card" };
    form.querySelectorAll("[data-tokenize]").forEach(function (input) {
      body[input.dataset.tokenize] = input.value.trim();
    });
    var problems = {};  // what the page itself needs, checked with the tokenizer's answer
    form.querySelectorAll("[data-required]").forEach(function (input) {
      if (!input.value.trim()) problems[input.name.split("-").pop()] = input.dataset.required;
    });
    return fetch(form.dataset.tokenizer, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          // The processor answers in English; the page lists its messages in its language.
          var local = JSON.parse(form.dataset.messages || "{}");
          Object.keys(data.error.fields).forEach(function (key) {
            var message = data.error.fields[key];
            problems[key] = local[message] || message;
          });
        }
        if (Object.keys(problems).length) return show(form, problems);
        form.querySelector("[data-token]").value = data.token;
        form.dataset.tokenized = "true";
        form.requestSubmit(button);
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-tokenizer]") || form.dataset.tokenized) return;
    // Before htmx sees the submit: first the token, then the real submit.
    event.preventDefault();
    event.stopImmediatePropagation();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    clear(form);
    tokenize(form, button).catch(function () {
      // The page says it in its own language; English if an older page does not.
      show(form, {
        number: form.dataset.unreachable || "The payment processor could not be reached. Try again.",
      });
    }).finally(function () { if (!form.dataset.tokenized) button.disabled = false; });
  }, true);

  document.addEventListener("DOMContentLoaded", function () { unname(document); });
  document.addEventListener("htmx:load", function (event) { unname(event.target); });
})();
