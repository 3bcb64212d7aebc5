// The upload page (templates/upload.html): files dropped on #drop-zone or chosen in
// #upload-input are sent with XMLHttpRequest, whose upload events drive #upload-progress;
// the CSRF token goes in the X-CSRF-Token header. The server answers at once with the job,
// whose section is then loaded into #upload-results and polled by htmx until it ends.
// Without this script the form posts the same fields and the server shows the job page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var zone = document.getElementById("drop-zone");
  var input = document.getElementById("upload-input");
  var progress = document.getElementById("upload-progress");
  var message = document.getElementById("upload-message");
  var results = document.getElementById("upload-results");
  var list = document.getElementById("upload-chosen");
  if (!form || !zone || !input || !progress || !results) {
    return;
  }
  var chosen = [];
  var t = function (key) { return form.getAttribute("data-t-" + key) || ""; };

  function show(files) {
    chosen = Array.prototype.slice.call(files);
    list.textContent = "";
    chosen.forEach(function (file) {
      var li = document.createElement("li");
      li.textContent = file.name + " (" + file.size.toLocaleString() + " B)";
      list.appendChild(li);
    });
  }

  input.addEventListener("change", function () { show(input.files); });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.remove("over");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      show(event.dataTransfer.files);
    }
  });
  zone.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });

  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "error" : "muted";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!chosen.length) {
      input.click();
      return;
    }
    var total = chosen.reduce(function (sum, file) { return sum + file.size; }, 0);
    var limit = Number(form.getAttribute("data-max-bytes") || "0");
    if (limit && total > limit) {
      say(t("too-large"), true);
      return;
    }
    // The token first, then the fields, then the files: the order the server expects.
    var data = new FormData();
    data.append("csrf_token", form.getAttribute("data-csrf-token"));
    data.append("note", form.elements.note.value);
    data.append("tz", form.elements.tz.value);
    chosen.forEach(function (file) { data.append("files", file, file.name); });

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf-token"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        progress.value = Math.round((100 * e.loaded) / e.total);
      }
    });
    xhr.addEventListener("load", function () {
      var answer = {};
      try {
        answer = JSON.parse(xhr.responseText);
      } catch (ignored) {
        answer = {};
      }
      form.elements["upload-send"].disabled = false;
      if (xhr.status === 202 && answer.url) {
        progress.value = 100;
        say(t("sent"), false);
        show([]);
        input.value = "";
        var slot = document.createElement("div");
        results.insertBefore(slot, results.firstChild);
        window.htmx.ajax("GET", answer.url, { target: slot, swap: "innerHTML" });
      } else {
        progress.hidden = true;
        say(t("failed") + " " + (answer.shown || answer.detail || xhr.status), true);
      }
    });
    xhr.addEventListener("error", function () {
      form.elements["upload-send"].disabled = false;
      progress.hidden = true;
      say(t("failed") + " " + t("network"), true);
    });
    form.elements["upload-send"].disabled = true;
    progress.hidden = false;
    progress.value = 0;
    say(t("sending"), false);
    xhr.send(data);
  });
})();
