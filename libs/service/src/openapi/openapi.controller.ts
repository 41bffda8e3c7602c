import { Controller, Get } from '@nestjs/common';
import { OpenApiRegistry } from './openapi-registry';

/** `GET /openapi.json`: the OpenAPI 3.1 description of what this service serves. */
@Controller('openapi.json')
export class OpenApiController {
  constructor(private readonly registry: OpenApiRegistry) {}

  @Get()
  document(): Record<string, unknown> {
    return this.registry.document();
  }
}
