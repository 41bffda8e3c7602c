import { readFileSync } from 'node:fs';
import { Controller, Get, Header, Query, UseFilters } from '@nestjs/common';
import { QueryErrorFilter } from '../query-error.filter';
import { limitParam } from '../query-params';
import { DEFAULT_HISTORY_MINUTES, MAX_HISTORY_MINUTES } from './status-history';
import { STATUS_CSS, STATUS_HTML, STATUS_JS } from './status-page';
import { StatusService, type StatusHistoryAnswer } from './status.service';

/**
 * Scripts, styles and requests from this origin only; no frames, no plugins, no inline script.
 * uPlot sets element styles through the CSSOM, which `style-src 'self'` allows.
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** uPlot's browser build, served by the query service itself: operators' networks may be closed. */
const UPLOT_JS = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
const UPLOT_CSS = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');

/**
 * The status page (docs/design/status-page.md): `GET /` and its files under `/status/`, and
 * `GET /status/history?minutes=` — the chart's series. A bad `minutes` is `400 request.invalid`.
 */
@Controller()
@UseFilters(QueryErrorFilter)
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', CSP)
  @Header('x-content-type-options', 'nosniff')
  @Header('cache-control', 'no-cache')
  page(): string {
    return STATUS_HTML;
  }

  @Get('status/app.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  script(): string {
    return STATUS_JS;
  }

  @Get('status/app.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('x-content-type-options', 'nosniff')
  style(): string {
    return STATUS_CSS;
  }

  @Get('status/uplot.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  @Header('x-content-type-options', 'nosniff')
  uplotScript(): string {
    return UPLOT_JS;
  }

  @Get('status/uplot.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  @Header('x-content-type-options', 'nosniff')
  uplotStyle(): string {
    return UPLOT_CSS;
  }

  @Get('status/history')
  async history(@Query('minutes') minutes: unknown): Promise<StatusHistoryAnswer> {
    return this.status.history(limitParam('minutes', minutes, DEFAULT_HISTORY_MINUTES, MAX_HISTORY_MINUTES));
  }
}
