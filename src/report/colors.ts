/**
 * Colours of the report: one per record type (fixed for the common ones, a
 * stable hash for the rest), and one per layer for the band above the timeline.
 */
import type { SegmentLayer } from './timeline.js';

export const LAYER_COLORS: Record<SegmentLayer, string> = {
  header: '#8d96a0',
  libxl: '#e07b39',
  libxc: '#2f6fbf',
  trailing: '#c0392b',
};

const TYPE_COLORS: Record<string, string> = {
  'header:xl header': '#b8bfc7',
  'header:libxl header': '#a3abb4',
  'header:libxc image header': '#c4cad1',
  'header:libxc domain header': '#98a1ab',
  'libxc:PAGE_DATA': '#4a90d9',
  'libxc:POSTCOPY_PAGE_DATA': '#8e6bd1',
  'libxc:POSTCOPY_PFNS': '#b9a3e6',
  'libxc:X86_CPUID_POLICY': '#1f9e89',
  'libxc:X86_MSR_POLICY': '#52b69a',
  'libxc:STATIC_DATA_END': '#6c7a89',
  'libxc:X86_TSC_INFO': '#76c893',
  'libxc:HVM_CONTEXT': '#168aad',
  'libxc:HVM_PARAMS': '#34a0a4',
  'libxc:X86_PV_INFO': '#99d98c',
  'libxc:X86_PV_P2M_FRAMES': '#5e8c31',
  'libxc:SHARED_INFO': '#90be6d',
  'libxc:X86_PV_VCPU_BASIC': '#43aa8b',
  'libxc:X86_PV_VCPU_EXTENDED': '#4d908e',
  'libxc:X86_PV_VCPU_XSAVE': '#577590',
  'libxc:X86_PV_VCPU_MSRS': '#277da1',
  'libxc:CHECKPOINT': '#d62828',
  'libxc:CHECKPOINT_DIRTY_PFN_LIST': '#f28482',
  'libxc:END': '#1d3557',
  'libxl:LIBXC_CONTEXT': '#f4a261',
  'libxl:EMULATOR_XENSTORE_DATA': '#e9c46a',
  'libxl:EMULATOR_CONTEXT': '#e76f51',
  'libxl:CHECKPOINT_END': '#b5651d',
  'libxl:CHECKPOINT_STATE': '#d4a373',
  'libxl:POSTCOPY_TRANSITION_END': '#c77dff',
  'libxl:END': '#6d4c41',
  'trailing:go message': '#e5989b',
  'trailing:trailing bytes': '#c0392b',
};

const FALLBACK: Record<SegmentLayer, string[]> = {
  header: ['#adb5bd'],
  libxc: ['#3d5a80', '#98c1d9', '#2a9d8f', '#81b29a', '#6a994e', '#386641'],
  libxl: ['#f6bd60', '#f28482', '#bc6c25', '#dda15e', '#9c6644'],
  trailing: ['#c0392b'],
};

export function typeColor(layer: SegmentLayer, name: string): string {
  const fixed = TYPE_COLORS[`${layer}:${name}`];
  if (fixed) return fixed;
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  const palette = FALLBACK[layer];
  return palette[h % palette.length];
}

/** Passes: pages sent for the first time, pages resent, postcopy pages. */
export const PASS_COLORS = { fresh: '#4a90d9', resent: '#f08a24', postcopy: '#8e6bd1' };

/** pfn map: not sent, sent without data, sent once, up to twice on average, more. */
export const HEAT_COLORS = { none: '#eef1f4', noData: '#c3c9d1', once: '#4a90d9', twice: '#f0a030', more: '#d1372b' };
