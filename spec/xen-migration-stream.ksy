# Kaitai Struct description of Xen's domain save / live-migration stream.
# Byte layouts: spec/FORMAT.md (sections 1-5, 7, 9.1, 11).
# How to open and compile it: spec/KAITAI.md.
#
# Written in a plain YAML subset (block mappings and sequences, quoted or plain
# scalars, flow sequences, literal `|` blocks, comments) so that the small
# loader in test/support/kaitai.ts can read it without a YAML dependency.
meta:
  id: xen_migration_stream
  title: Xen domain save / migration stream (xl container, libxl v2, libxc v2/v3)
  application: Xen (xl save / xl migrate / libxl / libxenguest)
  license: MIT
  ks-version: '0.10'
  endian: le
doc: |
  Static layout of a plain (non-checkpointed) Xen migration stream, in any of
  three forms, chosen from the first four bytes:

  * an `xl save` file: xl save-file header (magic, byteorder, flags,
    optional data with the domain config) followed by a libxl stream;
  * a bare libxl stream ("LibxlFmt"), as libvirt or `verify-stream-v2 -f libxl`
    sees it;
  * a bare libxc stream (marker 0xFFFFFFFFFFFFFFFF, "XENF").

  Nesting (FORMAT.md section 9.1): the libxl LIBXC_CONTEXT record (type 1) has
  an empty body and the libxc stream (image header, domain header, libxc
  records) starts at the very next byte; it is parsed here as the `libxc`
  field of that record. After the libxc END record the libxl records continue
  until the libxl END record.

  Byte order: the xl header and config_len are in the saving host's native
  order; only the little-endian (x86) form is described, which is what every
  real file uses (byteorder must read 0x01020304). The libxl stream header and
  the libxc image header are always big-endian; every other field is in the
  stream's endianness, which all C readers require to be little-endian.

  Every record of both layers is u32 type, u32 body_length, body_length bytes
  of body and (8 - body_length % 8) % 8 bytes of zero padding. Unknown record
  types are kept as opaque bytes.

  LIMITATION: only plain streams are covered (xl container -> libxl ->
  libxc ... libxc END -> libxl records -> libxl END). Checkpointed streams
  (Remus/COLO) and the postcopy RFC dialect have no END record in the libxc
  layer: libxc CHECKPOINT hands the byte stream to libxl until CHECKPOINT_END
  and then back to libxc, forever. Which layer a record belongs to is decided
  only by that layer automaton (FORMAT.md section 9.5) - the record bytes are
  identical in shape and the type numbers overlap - and Kaitai Struct cannot
  express such a state machine. On such streams this description will parse
  the libxl records after a libxc CHECKPOINT as if they were libxc records.
  The COLO back channel (headerless records of both layers) is not covered
  either.
doc-ref:
  - https://xenbits.xen.org/docs/unstable/specs/libxc-migration-stream.html
  - https://xenbits.xen.org/docs/unstable/specs/libxl-migration-stream.html
seq:
  - id: stream
    type:
      switch-on: magic4
      cases:
        0x58656e20: xl_save_file
        0x4c696278: libxl_stream
        0xffffffff: libxc_stream
        _: unrecognised_stream
instances:
  magic4:
    pos: 0
    type: u4be
    doc: First four bytes, used only to pick the entry form.
types:
  unrecognised_stream:
    doc: Input that starts with none of the three known magics.
    seq:
      - id: data
        size-eos: true

  # ------------------------------------------------------------------ xl ---
  xl_save_file:
    doc: xl save-file container (FORMAT.md section 3).
    seq:
      - id: header
        type: xl_header(_io.pos)
      - id: libxl
        type: libxl_stream
        if: header.is_stream_v2
        doc: |
          libxl v2 stream; it starts at 48 + optional_data_len, which is
          usually not 8-byte aligned in the file.
      - id: legacy_stream
        size-eos: true
        if: not header.is_stream_v2
        doc: Legacy (v1) stream, converted by libxl; not described here.
  xl_header:
    params:
      - id: ofs
        type: u8
        doc: Absolute offset of this header in the parsed buffer.
    seq:
      - id: magic
        contents: ["Xen saved domain, xl format", 0x0a, 0x20, 0x00, 0x20, 0x0d]
        doc: 32 bytes, the NUL at byte 29 is part of the magic; no terminator.
      - id: byteorder
        type: u4
        valid: 0x01020304
        doc: 0x01020304 in the writer's native order (LE on x86).
      - id: mandatory_flags
        type: u4
        doc: bit 0 JSON config, bit 1 STREAMv2; any other bit makes xl reject the file.
      - id: optional_flags
        type: u4
        doc: Written as 0, never checked by xl.
      - id: optional_data_len
        type: u4
      - id: optional_data
        size: optional_data_len
        type: xl_optional_data
    instances:
      is_json:
        value: (mandatory_flags & 1) != 0
      is_stream_v2:
        value: (mandatory_flags & 2) != 0
  xl_optional_data:
    doc: Each item is present only if enough bytes remain.
    seq:
      - id: config_len
        type: u4
        if: _io.size >= 4
      - id: config
        type: strz
        encoding: UTF-8
        size: config_len
        if: _io.size >= 4
        doc: |
          JSON from libxl_domain_config_to_json() including its terminating
          NUL when the JSON flag is set, else legacy xl config text.
      - id: ignored
        size-eos: true
        doc: Rest of the optional data, skipped by xl.

  # --------------------------------------------------------------- libxl ---
  libxl_stream:
    doc: libxl (libxenlight) domain image format, FORMAT.md section 4.
    seq:
      - id: header
        type: libxl_header(_io.pos)
      - id: records
        type: libxl_record(_io.pos)
        repeat: until
        repeat-until: _.type == libxl_rec_type::end or _io.eof
  libxl_header:
    params:
      - id: ofs
        type: u8
    seq:
      - id: ident
        contents: LibxlFmt
      - id: version
        type: u4be
        valid: 2
      - id: options
        type: u4be
        doc: bit 0 big-endian stream, bit 1 legacy (converted) stream, rest reserved.
    instances:
      is_big_endian:
        value: (options & 1) != 0
      is_legacy:
        value: (options & 2) != 0
  libxl_record:
    params:
      - id: ofs
        type: u8
        doc: Absolute offset of the record header.
    seq:
      - id: type
        type: u4
        enum: libxl_rec_type
      - id: body_length
        type: u4
        doc: Body length, excluding padding.
      - id: body
        size: body_length
        type:
          switch-on: type
          cases:
            libxl_rec_type::emulator_xenstore_data: emulator_xenstore_data
            libxl_rec_type::emulator_context: emulator_context
            libxl_rec_type::checkpoint_state: checkpoint_state
      - id: padding
        size: (8 - body_length % 8) % 8
      - id: libxc
        type: libxc_stream
        if: type == libxl_rec_type::libxc_context
        doc: |
          The embedded libxc stream starts right after the (empty)
          LIBXC_CONTEXT record and runs up to and including libxc END.
    instances:
      is_optional:
        value: type.to_i >= 0x80000000
  emulator_header:
    doc: Sub-header of EMULATOR_XENSTORE_DATA and EMULATOR_CONTEXT, counted in body_length.
    seq:
      - id: emulator_id
        type: u4
        enum: emulator_id
      - id: index
        type: u4
  emulator_xenstore_data:
    seq:
      - id: emulator
        type: emulator_header
      - id: strings
        type: strz
        encoding: ASCII
        repeat: eos
        doc: Alternating NUL-terminated key and value strings.
  emulator_context:
    seq:
      - id: emulator
        type: emulator_header
      - id: blob
        size-eos: true
        doc: Opaque emulator state (QEMU upstream - its savevm stream, "QEVM").
  checkpoint_state:
    seq:
      - id: control_id
        type: u4
        enum: checkpoint_control
        doc: body_length is 4; the next 4 bytes are record padding.

  # --------------------------------------------------------------- libxc ---
  libxc_stream:
    doc: libxc (libxenctrl) domain image format, FORMAT.md section 5.
    seq:
      - id: image_header
        type: libxc_image_header(_io.pos)
      - id: domain_header
        type: libxc_domain_header(_io.pos)
      - id: records
        type: libxc_record(_io.pos)
        repeat: until
        repeat-until: _.type == libxc_rec_type::end or _io.eof
  libxc_image_header:
    doc: 24 bytes, every field big-endian.
    params:
      - id: ofs
        type: u8
    seq:
      - id: marker
        contents: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
      - id: id
        contents: XENF
      - id: version
        type: u4be
        valid:
          any-of: [2, 3]
      - id: options
        type: u2be
        doc: bit 0 big-endian stream, bits 1-15 reserved.
      - id: reserved1
        type: u2be
      - id: reserved2
        type: u4be
    instances:
      is_big_endian:
        value: (options & 1) != 0
  libxc_domain_header:
    doc: 16 bytes, stream order (LE).
    params:
      - id: ofs
        type: u8
    seq:
      - id: type
        type: u4
        enum: domain_type
        doc: x86 HVM (2) is also used for PVH guests.
      - id: page_shift
        type: u2
      - id: reserved
        type: u2
      - id: xen_major
        type: u4
        doc: 0 means written by the legacy converter.
      - id: xen_minor
        type: u4
  libxc_record:
    params:
      - id: ofs
        type: u8
        doc: Absolute offset of the record header.
    seq:
      - id: type
        type: u4
        enum: libxc_rec_type
      - id: body_length
        type: u4
        doc: Body length, excluding padding; readers reject more than 0x08000000.
      - id: body
        size: body_length
        type:
          switch-on: type
          cases:
            libxc_rec_type::page_data: page_data
            libxc_rec_type::x86_pv_info: x86_pv_info
            libxc_rec_type::x86_pv_p2m_frames: x86_pv_p2m_frames
            libxc_rec_type::x86_pv_vcpu_basic: x86_pv_vcpu
            libxc_rec_type::x86_pv_vcpu_extended: x86_pv_vcpu
            libxc_rec_type::x86_pv_vcpu_xsave: x86_pv_vcpu
            libxc_rec_type::x86_pv_vcpu_msrs: x86_pv_vcpu
            libxc_rec_type::x86_tsc_info: x86_tsc_info
            libxc_rec_type::hvm_context: hvm_context
            libxc_rec_type::hvm_params: hvm_params
            libxc_rec_type::checkpoint_dirty_pfn_list: pfn_list
            libxc_rec_type::x86_cpuid_policy: x86_cpuid_policy
            libxc_rec_type::x86_msr_policy: x86_msr_policy
      - id: padding
        size: (8 - body_length % 8) % 8
    instances:
      is_optional:
        value: type.to_i >= 0x80000000

  page_data:
    doc: |
      count, reserved, count pfn entries, then one 4096-byte page per entry
      whose type carries data, in pfn-array order. The page contents are
      skipped, not parsed. body_length == 8 + 8 * count + 4096 * data_pages.
    seq:
      - id: count
        type: u4
        doc: Must be at least 1.
      - id: reserved
        type: u4
      - id: pfns
        type: 'pfn_entry(_index == 0 ? 0 : pfns[_index - 1].data_pages_through)'
        repeat: expr
        repeat-expr: count
      - id: pages
        size: 4096 * data_pages
      - id: trailing
        size-eos: true
        valid:
          expr: _.length == 0
        doc: Nothing may follow the pages (the body length rule is exact).
    instances:
      data_pages:
        value: 'count == 0 ? 0 : pfns.last.data_pages_through'
        doc: Number of entries whose type carries a 4096-byte page.
  pfn_entry:
    doc: |
      u64 with the page type nibble in bits 63-60, reserved bits 59-52 and
      the PFN in bits 51-0; read as two u32 halves so that every target
      language (including JavaScript numbers) keeps all 64 bits.
    params:
      - id: data_pages_before
        type: u4
        doc: Data-bearing entries before this one in the pfn array (running count).
    seq:
      - id: low
        type: u4
      - id: high
        type: u4
    instances:
      page_type:
        value: high >> 28
        enum: page_type
      reserved_bits:
        value: (high >> 20) & 0xff
      pfn:
        value: (high & 0xfffff) * 4294967296 + low
      has_data:
        value: page_type.to_i <= 4 or (page_type.to_i >= 9 and page_type.to_i <= 12)
        doc: Types 0-4 and 9-12 carry 4096 bytes of data; 13-15 do not; 5-8 are invalid.
      data_pages_through:
        value: 'data_pages_before + (has_data ? 1 : 0)'
        doc: Data-bearing entries up to and including this one.
  x86_pv_info:
    seq:
      - id: guest_width
        type: u1
        doc: 4 (32-bit) or 8 (64-bit).
      - id: pt_levels
        type: u1
      - id: reserved
        size: 6
  x86_pv_p2m_frames:
    seq:
      - id: p2m_start_pfn
        type: u4
      - id: p2m_end_pfn
        type: u4
      - id: p2m_pfns
        type: u8
        repeat: eos
        doc: Guest frames holding the P2M for pfns start..end inclusive.
  x86_pv_vcpu:
    doc: X86_PV_VCPU_BASIC / EXTENDED / XSAVE / MSRS.
    seq:
      - id: vcpu_id
        type: u4
      - id: reserved
        type: u4
      - id: context
        size-eos: true
  x86_tsc_info:
    seq:
      - id: mode
        type: u4
        enum: tsc_mode
      - id: khz
        type: u4
      - id: nsec
        type: u8
      - id: incarnation
        type: u4
      - id: reserved
        type: u4
  hvm_context:
    doc: |
      Raw blob of XEN_DOMCTL_gethvmcontext: packed save entries, each an
      8-byte descriptor and its data without padding, ended by typecode 0.
    seq:
      - id: entries
        type: hvm_save_entry
        repeat: until
        repeat-until: _.typecode == 0 or _io.eof
      - id: trailing
        size-eos: true
  hvm_save_entry:
    seq:
      - id: typecode
        type: u2
      - id: instance
        type: u2
      - id: length
        type: u4
      - id: data
        size: length
  hvm_params:
    seq:
      - id: count
        type: u4
      - id: reserved
        type: u4
      - id: params
        type: hvm_param
        repeat: expr
        repeat-expr: count
  hvm_param:
    seq:
      - id: index
        type: u8
        enum: hvm_param_index
      - id: value
        type: u8
  pfn_list:
    doc: CHECKPOINT_DIRTY_PFN_LIST (COLO back channel only).
    seq:
      - id: pfns
        type: u8
        repeat: eos
  x86_cpuid_policy:
    seq:
      - id: leaves
        type: cpuid_leaf
        repeat: eos
  cpuid_leaf:
    doc: xen_cpuid_leaf_t, 24 bytes.
    seq:
      - id: leaf
        type: u4
      - id: subleaf
        type: u4
        doc: 0xFFFFFFFF = no subleaf.
      - id: a
        type: u4
      - id: b
        type: u4
      - id: c
        type: u4
      - id: d
        type: u4
  x86_msr_policy:
    seq:
      - id: msrs
        type: msr_entry
        repeat: eos
  msr_entry:
    doc: xen_msr_entry_t, 16 bytes.
    seq:
      - id: idx
        type: u4
      - id: flags
        type: u4
      - id: val
        type: u8

enums:
  libxl_rec_type:
    0: end
    1: libxc_context
    2: emulator_xenstore_data
    3: emulator_context
    4: checkpoint_end
    5: checkpoint_state
  libxc_rec_type:
    0x00: end
    0x01: page_data
    0x02: x86_pv_info
    0x03: x86_pv_p2m_frames
    0x04: x86_pv_vcpu_basic
    0x05: x86_pv_vcpu_extended
    0x06: x86_pv_vcpu_xsave
    0x07: shared_info
    0x08: x86_tsc_info
    0x09: hvm_context
    0x0a: hvm_params
    0x0b: toolstack
    0x0c: x86_pv_vcpu_msrs
    0x0d: verify
    0x0e: checkpoint
    0x0f: checkpoint_dirty_pfn_list
    0x10: static_data_end
    0x11: x86_cpuid_policy
    0x12: x86_msr_policy
  domain_type:
    1: x86_pv
    2: x86_hvm
  emulator_id:
    0: unknown
    1: qemu_traditional
    2: qemu_upstream
  checkpoint_control:
    0: checkpoint_new
    1: checkpoint_svm_suspended
    2: checkpoint_svm_ready
    3: checkpoint_svm_resumed
  tsc_mode:
    0: default
    1: always_emulate
    2: never_emulate
    3: pvrdtscp
  page_type:
    0x0: notab
    0x1: l1tab
    0x2: l2tab
    0x3: l3tab
    0x4: l4tab
    0x9: l1tab_pinned
    0xa: l2tab_pinned
    0xb: l3tab_pinned
    0xc: l4tab_pinned
    0xd: broken
    0xe: xalloc
    0xf: xtab
  hvm_param_index:
    0: callback_irq
    1: store_pfn
    2: store_evtchn
    4: pae_enabled
    5: ioreq_pfn
    6: bufioreq_pfn
    9: viridian
    10: timer_mode
    11: hpet_enabled
    12: ident_pt
    13: dm_domain
    14: acpi_s_state
    15: vm86_tss
    16: vpt_align
    17: console_pfn
    18: console_evtchn
    19: acpi_ioports_location
    20: memory_event_cr0
    21: memory_event_cr3
    22: memory_event_cr4
    23: memory_event_int3
    24: nestedhvm
    25: memory_event_single_step
    26: bufioreq_evtchn
    27: paging_ring_pfn
    28: monitor_ring_pfn
    29: sharing_ring_pfn
    30: memory_event_msr
    31: triple_fault_reason
    32: ioreq_server_pfn
    33: nr_ioreq_server_pages
    34: vm_generation_id_addr
    35: altp2m
    36: x87_fip_width
    37: vm86_tss_sized
    38: mca_cap
