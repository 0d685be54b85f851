import { ErrorCode, apiError } from '@renku-supergraph/kit';

export const maxPageSize = 100;

/** `first` of a connection: 1 to 100; an explicit null means the same as leaving it out. */
export function pageSize(first: number | null | undefined): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > maxPageSize) {
    throw apiError(ErrorCode.BadUserInput, `\`first\` must be from 1 to ${maxPageSize}`, {
      argument: 'first',
    });
  }
  return size;
}
