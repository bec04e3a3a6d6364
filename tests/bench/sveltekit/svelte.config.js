import adapter from "@sveltejs/adapter-node";
// JSON POSTs are not subject to SvelteKit's form CSRF check.
export default { kit: { adapter: adapter() } };
