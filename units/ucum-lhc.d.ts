// The package ships no types; this declares the part chartgraph uses.
declare module '@lhncbc/ucum-lhc' {
  export interface UcumConversion {
    status: 'succeeded' | 'failed' | 'error';
    toVal: number | null;
    msg: string[];
  }
  export interface UcumValidation {
    status: 'valid' | 'invalid' | 'error';
    ucumCode: string | null;
    msg: string[];
  }
  export interface UcumLhcUtils {
    convertUnitTo(
      fromUnitCode: string,
      fromVal: number,
      toUnitCode: string,
      options?: { suggest?: boolean; molecularWeight?: number | null; charge?: number | null },
    ): UcumConversion;
    validateUnitString(unit: string, suggest?: boolean, valConv?: string): UcumValidation;
  }
  const ucum: { UcumLhcUtils: { getInstance(): UcumLhcUtils } };
  export default ucum;
}
