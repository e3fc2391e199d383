export const DASHBOARD_HTML = '<!doctype html><title>fluxdns</title><p>dashboard</p>';
