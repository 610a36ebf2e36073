// Starts Swagger UI on /api/docs. A file of its own, not an inline script, so the page's
// Content-Security-Policy can allow scripts from this origin only.
"use strict";

(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    // No badge from the public validator: it would be a third-party request.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
