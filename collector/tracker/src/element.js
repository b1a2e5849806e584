// What a click records about its element: where it is in the page and what it says,
// never what a visitor typed.

const INTERACTIVE = 'a,button,input,select,textarea,label,summary,[role=button],[role=link]';
const PLAIN_ID = /^[A-Za-z][\w-]*$/;
const TYPED = /^(INPUT|TEXTAREA|SELECT)$/i;

/** The element a click means: the link or button around the clicked node, else the node
 * itself, so a click on an icon inside a button counts for the button. */
export const clicked = (node) => {
  const element = node && (node.nodeType == 1 ? node : node.parentElement);
  return element && (element.closest(INTERACTIVE) || element);
};

/** A selector that survives restyling: ids and element positions, never class names
 * (they change with state: "active", "open"). It stops at the nearest plain id. */
export const selector = (element) => {
  const parts = [];
  for (; element && element.parentElement; element = element.parentElement) {
    if (PLAIN_ID.test(element.id)) {
      parts.unshift('#' + element.id);
      break;
    }
    let same = 0, position = 0;
    for (const sibling of element.parentElement.children) {
      if (sibling.tagName == element.tagName && ++same && sibling == element) position = same;
    }
    const tag = element.tagName.toLowerCase();
    parts.unshift(same > 1 ? `${tag}:nth-of-type(${position})` : tag);
  }
  return parts.join('>');
};

/** Visible text, whitespace collapsed, at most 100 characters; nothing at all from a form
 * field or an editable region, whose content is what a visitor typed. */
export const visibleText = (element) =>
  TYPED.test(element.tagName) || element.isContentEditable
    ? ''
    : (element.innerText || '').replace(/\s+/g, ' ').trim().slice(0, 100);
