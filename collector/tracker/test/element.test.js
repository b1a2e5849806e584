import assert from 'node:assert/strict';
import { test } from 'node:test';

import { selector, visibleText } from '../src/element.js';

/** A stand-in for a DOM element: just what element.js reads. */
const element = (tagName, { id = '', text = '', editable = false } = {}, ...children) => {
  const node = { nodeType: 1, tagName: tagName.toUpperCase(), id, innerText: text, isContentEditable: editable, children };
  for (const child of children) child.parentElement = node;
  return node;
};

const page = (...bodyChildren) => element('html', {}, element('body', {}, ...bodyChildren));

test('selector walks up to the nearest plain id', () => {
  const button = element('button');
  page(element('main', { id: 'content' }, element('section', {}, button)));
  assert.equal(selector(button), '#content>section>button');
});

test('selector numbers an element among siblings of its kind only', () => {
  const second = element('li');
  page(element('ul', {}, element('li'), element('p'), second));
  assert.equal(selector(second), 'body>ul>li:nth-of-type(2)');
});

test('selector ignores ids that are not plain names and never uses classes', () => {
  const link = element('a', { id: '123-generated' });
  page(element('nav', {}, link));
  assert.equal(selector(link), 'body>nav>a');
});

test('an element with a plain id is its own selector', () => {
  const buy = element('button', { id: 'buy' });
  page(buy);
  assert.equal(selector(buy), '#buy');
});

test('visible text is trimmed, collapsed and cut at 100 characters', () => {
  assert.equal(visibleText(element('button', { text: '  Buy\n\n  now  ' })), 'Buy now');
  assert.equal(visibleText(element('p', { text: 'x'.repeat(150) })).length, 100);
});

test('nothing a visitor typed is ever taken as text', () => {
  for (const tag of ['input', 'textarea', 'select']) {
    assert.equal(visibleText(element(tag, { text: 'secret' })), '');
  }
  assert.equal(visibleText(element('div', { text: 'draft', editable: true })), '');
});
