// What other views use of the why panel: `openWhy(project, a, b)` opens it over any view (the
// panel is mounted once, by App), `WhyLink` is a ready-made "Why?" button for a pair of ids.

export { openWhy, closeWhy } from './why.svelte';
export { default as WhyLink } from './WhyLink.svelte';
