/* This file is part of zhonglian-ticketing. See README.md for the licence.

The site's settings for sao, Tryton's web client.  sao's index.html loads
custom.js from its web root after sao itself; scripts/setup.sh links this
file there, and this folder (web/) as zl/ beside it.  Nothing of sao is
copied or changed.
*/
(function() {
    'use strict';

    const SITE = {
        // The browser window, the menu bar and the login dialog say it.
        title: '众链票务 门票预约管理系统',
        // Before login sao speaks the browser's language (a Chinese
        // site's staff get English on an English browser); after login,
        // the user's own (res.user language, the database's by default).
        language: 'zh_CN',
        // Our additions to sao's own catalogues (web/locale/<lang>.json,
        // msgid: text): strings sao leaves untranslated or shows with a
        // desktop access key, e.g. "收藏(_V)".
        catalogues: ['zh_CN'],
    };

    Sao.config.title = SITE.title;

    // sao means Tryton's language code (zh_CN) and converts it with BC47()
    // where the browser wants its own; gettext.js 2 stores zh-CN, so sao
    // sent "zh-CN" to the server (the login's password prompt came in
    // English) and to the HTML editor (TinyMCE found no language pack).
    Sao.i18n.getlang = function() {
        return Sao.i18n.getLocale().replace('-', '_');
    };

    const catalogues = {};
    let current = null;

    function load_catalogue(lang) {
        const dfd = jQuery.Deferred();
        if (!SITE.catalogues.includes(lang) || (lang in catalogues)) {
            return dfd.resolve().promise();
        }
        jQuery.getJSON('zl/locale/' + lang + '.json')
            .done(data => {
                catalogues[lang] = data;
            })
            .always(() => dfd.resolve());
        return dfd.promise();
    }

    const setlang = Sao.i18n.setlang;
    Sao.i18n.setlang = function(lang) {
        lang = lang || SITE.language;
        return load_catalogue(lang).then(() => {
            current = lang;
            return setlang.call(this, lang);
        });
    };

    // sao hands its catalogue to gettext here: ours goes over it.
    const loadJSON = Sao.i18n.loadJSON;
    Sao.i18n.loadJSON = function(data, domain) {
        const ours = catalogues[current];
        if (ours && (data[''].language == current)) {
            data = Object.assign({}, data, ours);
        }
        return loadJSON.call(this, data, domain);
    };

    // The login dialog names the product instead of sao's version.
    const login_dialog = Sao.Session.login_dialog;
    Sao.Session.login_dialog = function() {
        const dialog = login_dialog.apply(this, arguments);
        dialog.header.find('.modal-title')
            .attr('title', SITE.title)
            .text(SITE.title);
        return dialog;
    };
}());
