// The parts of the visitors form: one fieldset per new visitor (checked as
// the visitor types and on leaving each field) and the saved companions.
import {h, uid} from '../dom.js';
import {t} from '../i18n.js';
import {idError, phoneError} from '../idcard.js';
import {checked, field, input} from '../ui.js';

export const ID_TYPES = [
  'resident_id', 'passport', 'hk_macau_permit', 'taiwan_permit'];

export function requiredText(value, message) {
  return value.trim() ? null : t(message);
}

export function phoneMessage(value) {
  return value.trim() && phoneError(value) ? t('errPhone') : null;
}

function idMessage(idType, value) {
  if (!value.trim()) {
    return t('errIdEmpty');
  }
  const error = idError(idType, value, new Date());
  if (error === 'checksum') {
    return t('errIdChecksum');
  }
  return error ? t('errIdFormat') : null;
}

// One new visitor: {root, value(), isEmpty(), validate(), renumber()}
// onRemove(block) deletes it; onChange() follows every edit.
export function visitorBlock(value, {onRemove, onChange}) {
  const legend = h('legend');
  const remove = h('button', {
    type: 'button', class: 'link-button remove',
    onclick: () => onRemove(block)});
  const name = field({label: t('name'), control: input({
    autocomplete: 'name', maxlength: 128, value: value.name || ''})});
  const typeSelect = h('select', {},
    ID_TYPES.map((type) => h('option', {value: type}, t(type))));
  typeSelect.value = value.id_type || 'resident_id';
  const idType = field({label: t('idType'), control: typeSelect});
  const number = field({label: t('idNumber'), control: input({
    maxlength: 128, autocapitalize: 'characters', spellcheck: 'false',
    value: value.id_number || ''})});
  // Other documents do not carry it: asked for the site's minors rules
  // and the gate's child flag (optional: the API says when it is needed).
  const birth = field({label: t('birthDate'), control: input({
    type: 'date', max: new Date().toISOString().slice(0, 10),
    min: '1900-01-01', value: value.birth_date || ''})});
  const showBirth = () => {
    birth.root.hidden = typeSelect.value === 'resident_id';
  };
  showBirth();
  const phone = field({label: t('mobile'), control: input({
    type: 'tel', inputmode: 'tel', autocomplete: 'tel', maxlength: 128,
    placeholder: t('optional'), value: value.phone || ''})});
  const saveId = uid('save');
  const save = h('input', {
    type: 'checkbox', id: saveId, checked: Boolean(value.save)});

  const checks = [
    checked(name, () => requiredText(name.control.value, 'errName')),
    checked(number, () => idMessage(typeSelect.value, number.control.value)),
    checked(phone, () => phoneMessage(phone.control.value)),
  ];
  // Another document type: the number is checked again by its rule.
  typeSelect.addEventListener('change', () => {
    showBirth();
    if (number.control.value.trim()) {
      checks[1]();
    }
  });

  const root = h('fieldset', {class: 'card visitor'},
    legend,
    h('div', {class: 'fieldset-tools'}, remove),
    name.root, idType.root, number.root, birth.root, phone.root,
    h('div', {class: 'check-row'}, save,
      h('label', {for: saveId}, t('saveCompanion'))));
  root.addEventListener('input', onChange);
  root.addEventListener('change', onChange);

  const block = {
    root,
    name,
    phone,
    value: () => ({
      name: name.control.value.trim(),
      id_type: typeSelect.value,
      id_number: number.control.value.trim(),
      phone: phone.control.value.trim(),
      birth_date: typeSelect.value === 'resident_id'
        ? '' : birth.control.value,
      save: save.checked,
    }),
    isEmpty: () => ![name, number, phone].some(
      (item) => item.control.value.trim()),
    // All checks shown; the first invalid control, or null.
    validate: () => {
      const controls = [name, number, phone];
      let first = null;
      checks.forEach((check, index) => {
        if (!check() && !first) {
          first = controls[index].control;
        }
      });
      return first;
    },
    clear: () => [name, number, phone].forEach((item) => item.setError(null)),
    renumber: (n, total) => {
      legend.textContent = t('visitorN', {n});
      remove.textContent = t('removeVisitor', {n});
      // The last visitor left cannot be removed.
      remove.hidden = total < 2;
    },
  };
  return block;
}

// The visitor's saved companions as checkboxes; null when there are none.
export function companionsFieldset(companions, chosen, onChange) {
  if (!companions.length) {
    return null;
  }
  return h('fieldset', {class: 'card companions'},
    h('legend', {}, t('companions')),
    h('div', {class: 'companion-grid'}, companions.map((companion) => {
      const id = uid('companion');
      return h('div', {class: 'companion'},
        h('input', {
          type: 'checkbox', id, value: companion.id,
          checked: chosen.includes(companion.id), onchange: onChange}),
        h('label', {for: id},
          h('span', {class: 'companion-name'}, companion.name), ' ',
          h('span', {class: 'masked'}, companion.id_number)));
    })));
}
