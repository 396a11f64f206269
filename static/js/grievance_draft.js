/*
 * A grievance draft that survives a dropped connection (templates/grievances/intake/file.html).
 *
 * - What is typed is kept in localStorage as it is typed, under a key per user and form
 *   (`data-draft-key`), and put back when the page is opened again.
 * - The form is sent with fetch(), and the page is left only when the server answers that
 *   the grievance was filed (it redirects to the "filed" page, which clears the draft:
 *   `data-draft-clear`). If the network is gone, nothing on the page changes except a
 *   message saying so: the text AND the photos chosen are still in the form (a file input
 *   keeps its files as long as the page stays; localStorage cannot hold photos).
 * - If the server answers with the form again (a mistake to correct), the new form takes
 *   the place of the old one, with the photo input moved over so the photos stay chosen.
 * - The form carries a `submission_key` that is part of the draft: a retry of a report
 *   whose answer was lost on the way is recognised by the server and not filed twice.
 * - Without JavaScript (or fetch) the form posts the ordinary way.
 *
 * No dependencies; htmx, when present, loads the parts that depend on a choice
 * (questions, units, residents), and the draft puts back their values once they arrive.
 */
(function () {
  "use strict";

  var FORM = "form[data-draft-key]";
  var pending = {}; // saved values whose fields are not on the page yet (htmx parts)

  function storage() {
    try {
      var probe = "linli.probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  }

  function fill(message, values) {
    // Placeholders are {name}: the texts come translated from the template.
    return String(message || "").replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? values[name] : all;
    });
  }

  function skipped(el) {
    return (
      !el.name ||
      el.disabled ||
      el.type === "file" ||
      el.type === "password" ||
      el.type === "submit" ||
      el.type === "button" ||
      el.name === "csrfmiddlewaretoken" ||
      el.hasAttribute("data-draft-skip")
    );
  }

  function collect(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (skipped(el)) return;
      if (el.type === "radio" || el.type === "checkbox") {
        if (!(el.name in data)) data[el.name] = [];
        if (el.checked) data[el.name].push(el.value);
      } else if (el.tagName === "SELECT" && el.multiple) {
        data[el.name] = Array.prototype.filter
          .call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        data[el.name] = [el.value];
      }
    });
    // Values still waiting for their field (a unit list not loaded yet) stay in the draft.
    Object.keys(pending).forEach(function (name) {
      if (!data[name] || !data[name].length) data[name] = pending[name];
    });
    return data;
  }

  function hasText(fields) {
    return Object.keys(fields).some(function (name) {
      var el = document.getElementsByName(name)[0];
      var textual = !el || el.type === "text" || el.type === "search" || el.tagName === "TEXTAREA" ||
        el.type === "tel" || el.type === "number";
      return textual && name !== "submission_key" && (fields[name] || []).some(function (v) { return v; });
    });
  }

  function save(form) {
    var store = storage();
    if (!store) return;
    var fields = collect(form);
    if (!hasText(fields) && !store.getItem(form.dataset.draftKey)) return;
    try {
      store.setItem(
        form.dataset.draftKey,
        JSON.stringify({ savedAt: new Date().toISOString(), fields: fields })
      );
    } catch (e) {
      /* full or refused: the page itself still holds everything */
    }
  }

  function setValues(form, fields, announce) {
    var left = {};
    var changed = [];
    Object.keys(fields).forEach(function (name) {
      var values = fields[name] || [];
      var els = Array.prototype.filter.call(form.elements, function (el) {
        return el.name === name && !skipped(el);
      });
      if (!els.length) {
        if (values.length) left[name] = values;
        return;
      }
      var first = els[0];
      if (first.type === "radio" || first.type === "checkbox") {
        var found = false;
        els.forEach(function (el) {
          var on = values.indexOf(el.value) !== -1;
          found = found || on;
          if (el.checked !== on) {
            el.checked = on;
            changed.push(el);
          }
        });
        if (values.length && !found) left[name] = values; // not among the choices yet
      } else if (first.tagName === "SELECT") {
        var value = values[0] || "";
        var known = Array.prototype.some.call(first.options, function (o) {
          return o.value === value;
        });
        if (!known) {
          if (value) left[name] = values;
          return;
        }
        if (first.multiple) {
          Array.prototype.forEach.call(first.options, function (o) {
            o.selected = values.indexOf(o.value) !== -1;
          });
        } else if (first.value !== value) {
          first.value = value;
          changed.push(first);
        }
      } else if (first.value !== (values[0] || "")) {
        first.value = values[0] || "";
        changed.push(first);
      }
    });
    if (announce) {
      // Let htmx load what depends on these choices (questions, units, search results).
      changed.forEach(function (el) {
        var kind = el.type === "search" ? "input" : "change";
        el.dispatchEvent(new Event(kind, { bubbles: true }));
      });
    }
    return left;
  }

  function restore(form) {
    var store = storage();
    if (!store || form.dataset.draftBound) return; // a form sent back by the server is newer
    var raw = store.getItem(form.dataset.draftKey);
    if (!raw) return;
    var draft;
    try {
      draft = JSON.parse(raw);
    } catch (e) {
      store.removeItem(form.dataset.draftKey);
      return;
    }
    if (!draft || !draft.fields || !hasText(draft.fields)) return;
    pending = setValues(form, draft.fields, true);
    var notice = document.getElementById("draft-notice");
    if (notice) {
      var when = new Date(draft.savedAt);
      var time = isNaN(when) ? "" : when.toLocaleString();
      notice.querySelector("[data-draft-text]").textContent = fill(form.dataset.msgRestored, {
        time: time
      });
      notice.classList.remove("d-none");
    }
    showPosition(form);
  }

  // --- parts shown for one choice only (data-show-if="name=value") -----------------------

  function toggle(root) {
    var form = document.querySelector(FORM);
    if (!form) return;
    (root || document).querySelectorAll("[data-show-if]").forEach(function (part) {
      var rule = part.getAttribute("data-show-if").split("=");
      var checked = form.querySelector('input[name="' + rule[0] + '"]:checked');
      part.hidden = !checked || checked.value !== rule[1];
    });
  }

  // --- photos ------------------------------------------------------------------------------

  function photoHint(input) {
    var form = input.form;
    var hint = form.querySelector("[data-photo-hint]");
    if (!hint) return;
    var limit = parseInt(form.dataset.maxPhotoBytes, 10);
    var most = parseInt(form.dataset.maxPhotos, 10);
    var lines = [];
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length) lines.push([fill(form.dataset.msgPhotoChosen, { n: files.length }), false]);
    if (most && files.length > most) lines.push([fill(form.dataset.msgPhotoCount, { n: most }), true]);
    files.forEach(function (file) {
      if (limit && file.size > limit) {
        lines.push([
          fill(form.dataset.msgPhotoBig, { name: file.name, mb: Math.floor(limit / 1048576) }),
          true
        ]);
      }
    });
    hint.textContent = "";
    lines.forEach(function (line) {
      var div = document.createElement("div");
      div.textContent = line[0];
      if (line[1]) div.className = "text-danger";
      hint.appendChild(div);
    });
  }

  // --- position ----------------------------------------------------------------------------

  function showPosition(form) {
    var lat = form.querySelector('[name="latitude"]');
    var status = form.querySelector("[data-geolocate-status]");
    var button = form.querySelector("[data-geolocate]");
    if (lat && lat.value && status && button) status.textContent = button.dataset.msgRecorded;
  }

  function locate(button) {
    var form = button.form;
    var status = form.querySelector("[data-geolocate-status]");
    var say = function (text) { if (status) status.textContent = text; };
    if (!navigator.geolocation) {
      say(button.dataset.msgUnavailable);
      return;
    }
    say(button.dataset.msgLocating);
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.querySelector('[name="latitude"]').value = position.coords.latitude.toFixed(6);
        form.querySelector('[name="longitude"]').value = position.coords.longitude.toFixed(6);
        say(fill(button.dataset.msgFound, { accuracy: Math.round(position.coords.accuracy) }));
        save(form);
      },
      function () {
        say(button.dataset.msgFailed);
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  // --- sending -----------------------------------------------------------------------------

  function say(form, text, kind) {
    var box = form.querySelector("[data-send-status]");
    if (!box) return;
    box.className = "alert alert-" + kind;
    box.textContent = text;
    box.classList.toggle("d-none", !text);
    if (text && kind !== "info") box.scrollIntoView({ block: "center" });
  }

  function busy(form, on) {
    var button = form.querySelector("[data-submit]");
    if (button) button.disabled = on;
    if (on) form.dataset.sending = "1";
    else delete form.dataset.sending;
  }

  function replaceForm(form, html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    if (!fresh || !fresh.querySelector(FORM)) return false;
    // The photos chosen stay chosen: the old input (with its files) replaces the new one.
    var photos = form.querySelector("input[type=file]");
    var slot = photos && fresh.querySelector('input[type=file][name="' + photos.name + '"]');
    var main = document.querySelector("main");
    fresh = document.adoptNode(fresh);
    if (slot) slot.replaceWith(photos);
    main.replaceWith(fresh);
    if (doc.title) document.title = doc.title;
    if (window.htmx) window.htmx.process(fresh);
    toggle(fresh);
    var first = fresh.querySelector(".is-invalid, .alert-danger");
    if (first) first.scrollIntoView({ block: "center" });
    return true;
  }

  function send(form) {
    save(form);
    busy(form, true);
    say(form, form.dataset.msgSending, "info");
    window
      .fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Linli-Draft": "1" }
      })
      .then(function (response) {
        if (response.ok && response.redirected) {
          // Filed: the page it leads to clears the draft.
          window.location.assign(response.url);
          return;
        }
        return response.text().then(function (html) {
          if (response.status >= 500 || !replaceForm(form, html)) {
            busy(form, false);
            say(form, fill(form.dataset.msgFailed, { status: response.status }), "danger");
          }
        });
      })
      .catch(function () {
        busy(form, false);
        say(form, form.dataset.msgOffline, "warning");
      });
  }

  // --- wiring (delegated: the form may be replaced by the server's answer) ------------------

  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.matches(FORM)) save(form);
  });

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !form.matches(FORM)) return;
    if (event.target.type === "file") photoHint(event.target);
    if (event.target.type === "radio") toggle();
    if (event.isTrusted) {
      // The person chose something else: an older saved value no longer applies.
      delete pending[event.target.name];
      save(form);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches(FORM) || !window.fetch || !window.FormData) return;
    event.preventDefault();
    if (!form.dataset.sending) send(form);
  });

  document.addEventListener("click", function (event) {
    var geo = event.target.closest("[data-geolocate]");
    if (geo) {
      event.preventDefault();
      locate(geo);
      return;
    }
    var discard = event.target.closest("[data-draft-discard]");
    if (discard) {
      var form = document.querySelector(FORM);
      var store = storage();
      if (form && store) store.removeItem(form.dataset.draftKey);
      window.location.reload();
    }
  });

  // htmx brought a part of the form (questions, units, residents): put back its values.
  document.addEventListener("htmx:afterSettle", function () {
    var form = document.querySelector(FORM);
    if (!form) return;
    if (Object.keys(pending).length) pending = setValues(form, pending, false);
    toggle();
  });

  function start() {
    // The "filed" page: the server confirmed, so the draft has done its job.
    document.querySelectorAll("[data-draft-clear]").forEach(function (el) {
      var store = storage();
      if (store) store.removeItem(el.getAttribute("data-draft-clear"));
    });
    var form = document.querySelector(FORM);
    if (!form) return;
    toggle();
    restore(form);
    toggle();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
