/*
 * kosiflow's live pages: keep the dashboard and an initiative's page up to date.
 *
 * A live page names its stream of changes in <main data-live-stream="…"> (server-sent events,
 * signed in by the session cookie). On every change the page is read again from the server and
 * each element marked data-live-region is swapped for its new version: progress, checklist,
 * blockers, and the forms with their fresh version and CSRF token. A region waits while the
 * user types in one of its fields, and what was entered is carried into the new version of its
 * form: nothing typed is thrown away. A polite status line says that the page was updated.
 *
 * Without JavaScript none of this runs and the page stays as the server rendered it.
 */
(function () {
  "use strict";

  var main = document.getElementById("main");
  var stream = main && main.getAttribute("data-live-stream");
  if (!stream || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var notice = document.getElementById("live-notice");
  var REFUSED_RETRY_MS = 30000; // a stream refused (too many open, server restarting): retry
  var MAX_REFUSALS = 10; // then stop: the session has probably ended
  var PAUSE_MS = 300; // between two reads of the page when changes come in a burst

  var source = null;
  var lastId = null;
  var refusals = 0;
  var reading = false; // a read of the page is under way
  var again = false; // a change came meanwhile: read once more afterwards
  var waiting = false; // some region waits for the user to leave a field

  // Put the notice "key" (its text is in the page's language) in the status line.
  function say(key) {
    if (notice) {
      var time = new Date().toLocaleTimeString(document.documentElement.lang || undefined, {
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
      notice.textContent = (notice.getAttribute("data-" + key) || "").replace("{time}", time);
    }
  }

  // A control the user is using: typing in a field, or about to press a button (a region
  // swapped between mousedown and click would swallow the click).
  function isField(element) {
    return /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(element.tagName);
  }

  // Whether the user is typing in a field of the region (focus there): then it waits.
  function isBusy(region) {
    var active = document.activeElement;
    return Boolean(active && region.contains(active) && isField(active));
  }

  // What the user has entered in the region's fields, by field id, to carry into the new version.
  function entered(region) {
    var values = [];
    var fields = region.querySelectorAll("input[id], textarea[id], select[id]");
    for (var i = 0; i < fields.length; i += 1) {
      var field = fields[i];
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) {
          values.push({ id: field.id, checked: field.checked });
        }
      } else if (field.tagName === "SELECT" || field.type !== "hidden") {
        if (field.value !== initialValue(field)) {
          values.push({ id: field.id, value: field.value });
        }
      }
    }
    return values;
  }

  function initialValue(field) {
    if (field.tagName !== "SELECT") {
      return field.defaultValue;
    }
    var chosen = field.options.length ? field.options[0].value : "";
    for (var i = 0; i < field.options.length; i += 1) {
      if (field.options[i].defaultSelected) {
        chosen = field.options[i].value;
      }
    }
    return chosen;
  }

  function restore(values) {
    values.forEach(function (saved) {
      var field = document.getElementById(saved.id);
      if (!field) {
        return; // the form is gone: what it would have done cannot be done now
      }
      if ("checked" in saved) {
        field.checked = saved.checked;
      } else {
        field.value = saved.value;
      }
    });
  }

  // The ids of the forms inside the region's open <details>, to open them again after a swap.
  function openForms(region) {
    var ids = [];
    var open = region.querySelectorAll("details[open] form[id]");
    for (var i = 0; i < open.length; i += 1) {
      ids.push(open[i].id);
    }
    return ids;
  }

  function reopen(ids) {
    ids.forEach(function (id) {
      var form = document.getElementById(id);
      var details = form && form.closest("details");
      if (details) {
        details.open = true;
      }
    });
  }

  function swap(fresh) {
    var changed = false;
    var held = false;
    var regions = document.querySelectorAll("[data-live-region]");
    for (var i = 0; i < regions.length; i += 1) {
      var region = regions[i];
      var next = region.id && fresh.getElementById(region.id);
      if (!next || next.innerHTML === region.innerHTML) {
        continue;
      }
      if (isBusy(region)) {
        held = true;
        continue;
      }
      var open = openForms(region);
      var values = entered(region);
      region.replaceWith(document.importNode(next, true));
      reopen(open);
      restore(values);
      changed = true;
    }
    waiting = held;
    if (held) {
      say("waiting");
    } else if (changed) {
      say("updated");
    }
  }

  function stop() {
    if (source) {
      source.close();
      source = null;
    }
  }

  function finished() {
    reading = false;
    if (again) {
      window.setTimeout(refresh, PAUSE_MS);
    }
  }

  // Read this page again and swap what changed (one read at a time; a burst of changes is one
  // more read afterwards).
  function refresh() {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    again = false;
    window
      .fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected) {
          stop(); // to the sign-in page: the session has ended
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null) {
          var fresh = new window.DOMParser().parseFromString(html, "text/html");
          var freshMain = fresh.getElementById("main");
          if (freshMain && freshMain.hasAttribute("data-live-stream")) {
            swap(fresh);
          }
        }
      })
      .catch(function () {
        return null; // the network is away for now: the next change reads again
      })
      .then(finished);
  }

  function changed(event) {
    lastId = event.lastEventId || lastId;
    refresh();
  }

  function resumeAddress() {
    if (lastId === null) {
      return stream;
    }
    var address = new window.URL(stream, window.location.href);
    address.searchParams.set("after", lastId);
    return address.pathname + address.search;
  }

  function connect() {
    source = new window.EventSource(resumeAddress());
    source.addEventListener("ready", function (event) {
      lastId = event.lastEventId || lastId;
      refusals = 0;
    });
    source.addEventListener("change", changed);
    source.addEventListener("reset", changed);
    source.addEventListener("error", function () {
      // While it is CONNECTING the browser reconnects by itself (sending Last-Event-ID);
      // CLOSED means the answer was no stream (401, 503): try again later, a few times.
      if (source && source.readyState === window.EventSource.CLOSED) {
        stop();
        refusals += 1;
        if (refusals < MAX_REFUSALS) {
          window.setTimeout(connect, REFUSED_RETRY_MS);
        }
      }
    });
  }

  document.addEventListener("focusout", function () {
    if (waiting) {
      window.setTimeout(refresh, 0); // once focus has moved on
    }
  });
  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !source) {
      connect(); // back from the browser's cache: catch up from where the page was
    }
  });
  connect();
})();
