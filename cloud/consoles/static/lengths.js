// A booking form's visit length offers only the lengths the chosen service allows: each
// service option names its lengths (data-lengths, rendered by the server); the others are
// hidden and disabled. Without script every length is offered and the server refuses one the
// service does not allow.
const lengthsOf = (select) => (select.selectedOptions[0]?.dataset.lengths || "").split(" ");

function narrow(services) {
  const length = document.getElementById(services.dataset.lengthsFor);
  if (!length) return;
  const allowed = lengthsOf(services);
  for (const option of length.options) {
    const offered = allowed.includes(option.value);
    option.hidden = !offered;
    option.disabled = !offered;
  }
  if (!allowed.includes(length.value)) length.value = allowed[0];
}

for (const services of document.querySelectorAll("select[data-lengths-for]")) {
  services.addEventListener("change", () => narrow(services));
  narrow(services);
}
