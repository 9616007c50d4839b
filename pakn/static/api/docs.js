// Starts Swagger UI on /api/v1/docs: a static file, so the page needs no inline script
// under the app's CSP (script-src 'self'). The description's URL comes from the page.
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    validatorUrl: null  // never ask an outside validator about our description
  });
});
