// nhacviec dashboard: the little JavaScript the pages need.
(function () {
  "use strict";

  // Filters of the overview: a choice applies at once (the form still works without script).
  document.querySelectorAll("form.filters select, form.filters input[type=checkbox]")
    .forEach(function (field) {
      field.addEventListener("change", function () { field.form.submit(); });
    });

  // Telegram Web App: Telegram passes the launch parameters in the URL's fragment
  // (#tgWebAppData=…&tgWebAppVersion=…), which is what its telegram-web-app.js reads too;
  // tgWebAppData is the signed initData the server checks. No script is loaded from Telegram.
  var form = document.getElementById("webapp-login");
  if (!form) { return; }
  var show = function (id) {
    document.getElementById("webapp-wait").hidden = true;
    document.getElementById(id).hidden = false;
  };
  var initData = "";
  if (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData) {
    initData = window.Telegram.WebApp.initData;
  } else {
    initData = new URLSearchParams(window.location.hash.slice(1)).get("tgWebAppData") || "";
  }
  if (!initData) { show("webapp-missing"); return; }
  // Telegram Web (in a browser) shows Web Apps in a frame of its own site, where browsers keep
  // no SameSite cookie: the session could not stick there.
  if (window.top !== window.self) { show("webapp-framed"); return; }
  history.replaceState(null, "", window.location.pathname);
  form.elements.init_data.value = initData;
  form.submit();
})();
