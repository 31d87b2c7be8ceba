// Swagger UI over the app's own OpenAPI (a module, as every page script; the bundle before it
// is a classic script); requests carry the session cookie of a login.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  withCredentials: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
