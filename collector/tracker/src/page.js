// What a page view measures: its campaign, how far down it was read, and for how long.

export const IDLE_MS = 15000;

/** Segment's context.campaign from the utm_ parameters of a query string, or undefined. */
export const campaign = (search) => {
  const params = new URLSearchParams(search);
  let found;
  for (const key of ['source', 'medium', 'campaign', 'term', 'content']) {
    const value = params.get('utm_' + key);
    if (value) (found ||= {})[key == 'campaign' ? 'name' : key] = value;
  }
  return found;
};

/** Percent of the page seen so far: the bottom of the viewport over the page's height. */
export const depth = (top, viewport, height) =>
  height > 0 ? Math.min(100, Math.round(((top + viewport) / height) * 100)) : 0;

/** The deepest point of one page view, reported as it passes 25, 50, 75 and 100 percent
 * and, on leaving, if it went further than last reported. */
export const scrollDepth = (report) => {
  let deepest = 0, reported = 0;
  return {
    seen(percent) {
      if (percent <= deepest) return;
      deepest = percent;
      if (((deepest / 25) | 0) > ((reported / 25) | 0)) report((reported = deepest));
    },
    leave() {
      if (deepest > reported) report((reported = deepest));
    },
  };
};

/** Engaged time: time while the page is visible and the visitor active. Each tick is a
 * moment of activity (or of the page showing or hiding); the time since the previous one
 * counts up to IDLE_MS, so a visitor who walked away stops counting. */
export const engagement = () => {
  let total = 0, last;
  return {
    tick(now, active) {
      if (last != null) total += Math.min(now - last, IDLE_MS);
      last = active ? now : null;
    },
    /** The engaged milliseconds since the last take. */
    take() {
      const ms = total;
      total = 0;
      return ms;
    },
  };
};
