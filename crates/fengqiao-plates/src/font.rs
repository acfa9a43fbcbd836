//! The caller's CJK font, subset to the characters a sheet uses and embedded
//! as a CID font, so that a sheet of plates stays small and prints anywhere.

use std::collections::BTreeMap;

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId, RawFace, Tag};

use crate::PlateError;

/// A character every Chinese font has; a font without it cannot print an
/// address.
const PROBE: char = '门';

pub(crate) struct CjkFont<'a> {
    data: &'a [u8],
    index: u32,
    face: Face<'a>,
}

impl<'a> CjkFont<'a> {
    /// Parses a TrueType or OpenType font or collection. In a collection such
    /// as Noto Sans CJK the Simplified Chinese face is chosen, because the
    /// same code point is drawn differently in Japanese or Korean faces.
    pub(crate) fn parse(data: &'a [u8]) -> Result<Self, PlateError> {
        let faces = ttf_parser::fonts_in_collection(data).unwrap_or(1);
        let index = (0..faces)
            .find(|&index| is_simplified_chinese_face(data, index))
            .unwrap_or(0);
        let face = Face::parse(data, index)
            .map_err(|error| PlateError::FontUnreadable(error.to_string()))?;
        if face.glyph_index(PROBE).is_none() {
            return Err(PlateError::FontUnreadable(
                "it has no Chinese characters".to_string(),
            ));
        }
        Ok(CjkFont { data, index, face })
    }

    pub(crate) fn has_glyph(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    /// Advance width in thousandths of the font size, as PDF widths are given.
    pub(crate) fn advance(&self, c: char) -> f32 {
        let glyph = self.face.glyph_index(c).unwrap_or(GlyphId(0));
        self.glyph_advance(glyph)
    }

    fn glyph_advance(&self, glyph: GlyphId) -> f32 {
        let advance = self.face.glyph_hor_advance(glyph).unwrap_or(0);
        self.per_mille(advance as f32)
    }

    fn per_mille(&self, units: f32) -> f32 {
        units * 1000.0 / self.face.units_per_em() as f32
    }

    fn postscript_name(&self) -> String {
        self.face
            .names()
            .into_iter()
            .find(|name| name.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .and_then(|name| name.to_string())
            .unwrap_or_else(|| "CJK".to_string())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect()
    }
}

fn is_simplified_chinese_face(data: &[u8], index: u32) -> bool {
    let Ok(face) = Face::parse(data, index) else {
        return false;
    };
    face.names()
        .into_iter()
        .filter(|name| name.name_id == ttf_parser::name_id::FAMILY)
        .filter_map(|name| name.to_string())
        .any(|family| family.ends_with(" SC") && !family.contains("Mono"))
}

/// The glyphs a sheet has used so far, numbered from 0 in order of first use;
/// the subset font keeps that numbering, so the number is also the CID.
pub(crate) struct EmbeddedFont<'f> {
    font: &'f CjkFont<'f>,
    remapper: GlyphRemapper,
    glyphs_in_cid_order: Vec<GlyphId>,
    text_of_cid: BTreeMap<u16, char>,
}

impl<'f> EmbeddedFont<'f> {
    pub(crate) fn new(font: &'f CjkFont<'f>) -> Self {
        EmbeddedFont {
            font,
            remapper: GlyphRemapper::new(),
            glyphs_in_cid_order: vec![GlyphId(0)],
            text_of_cid: BTreeMap::new(),
        }
    }

    pub(crate) fn font(&self) -> &'f CjkFont<'f> {
        self.font
    }

    /// The text as two-byte CIDs for an Identity-H font, remembering each
    /// character so that the PDF can be searched and copied from.
    pub(crate) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let glyph = self.font.face.glyph_index(c).unwrap_or(GlyphId(0));
            if self.remapper.get(glyph.0).is_none() {
                self.glyphs_in_cid_order.push(glyph);
            }
            let cid = self.remapper.remap(glyph.0);
            if glyph.0 != 0 {
                self.text_of_cid.entry(cid).or_insert(c);
            }
            bytes.extend_from_slice(&cid.to_be_bytes());
        }
        bytes
    }

    /// Writes the Type 0 font `type0` and the objects it needs, taking fresh
    /// ids from `next_id`.
    pub(crate) fn write(
        self,
        pdf: &mut Pdf,
        type0: Ref,
        mut next_id: impl FnMut() -> Ref,
    ) -> Result<(), PlateError> {
        let font = self.font;
        let subset = subsetter::subset(font.data, font.index, &self.remapper)
            .map_err(|error| PlateError::FontSubset(error.to_string()))?;
        let is_cff = font.face.tables().cff.is_some();
        // PDF wants bare CFF for CFF outlines, the whole font for TrueType.
        let program = if is_cff {
            RawFace::parse(&subset, 0)
                .ok()
                .and_then(|raw| raw.table(Tag::from_bytes(b"CFF ")))
                .ok_or_else(|| PlateError::FontSubset("the subset has no CFF table".into()))?
                .to_vec()
        } else {
            subset
        };
        let base_font = format!("{}+{}", self.subset_tag(), font.postscript_name());
        let base_font = Name(base_font.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let (cid_font, descriptor, program_id, to_unicode) =
            (next_id(), next_id(), next_id(), next_id());

        pdf.type0_font(type0)
            .base_font(base_font)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_font)
            .to_unicode(to_unicode);

        let mut cid = pdf.cid_font(cid_font);
        cid.subtype(if is_cff {
            CidFontType::Type0
        } else {
            CidFontType::Type2
        })
        .base_font(base_font)
        .system_info(system_info)
        .font_descriptor(descriptor)
        .default_width(1000.0);
        if !is_cff {
            cid.cid_to_gid_map_predefined(Name(b"Identity"));
        }
        cid.widths().consecutive(
            0,
            self.glyphs_in_cid_order
                .iter()
                .map(|&glyph| font.glyph_advance(glyph)),
        );
        cid.finish();

        let bbox = font.face.global_bounding_box();
        let mut descriptor_writer = pdf.font_descriptor(descriptor);
        descriptor_writer
            .name(base_font)
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                font.per_mille(bbox.x_min.into()),
                font.per_mille(bbox.y_min.into()),
                font.per_mille(bbox.x_max.into()),
                font.per_mille(bbox.y_max.into()),
            ))
            .italic_angle(0.0)
            .ascent(font.per_mille(font.face.ascender().into()))
            .descent(font.per_mille(font.face.descender().into()))
            .cap_height(
                font.per_mille(
                    font.face
                        .capital_height()
                        .unwrap_or(font.face.ascender())
                        .into(),
                ),
            )
            .stem_v(80.0);
        if is_cff {
            descriptor_writer.font_file3(program_id);
        } else {
            descriptor_writer.font_file2(program_id);
        }
        descriptor_writer.finish();

        let compressed = compress_to_vec_zlib(&program, 6);
        let mut stream = pdf.stream(program_id, &compressed);
        stream.filter(Filter::FlateDecode);
        if is_cff {
            stream.pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
        }
        stream.finish();

        let mut cmap = UnicodeCmap::new(Name(b"Fengqiao-Plates-UTF16"), system_info);
        for (&cid, &c) in &self.text_of_cid {
            cmap.pair(cid, c);
        }
        pdf.cmap(to_unicode, &cmap.finish());
        Ok(())
    }

    /// Six capital letters that differ between different subsets of one
    /// font, as PDF requires of subset font names.
    fn subset_tag(&self) -> String {
        let mut hash: u32 = 0x811c_9dc5;
        for glyph in &self.glyphs_in_cid_order {
            for byte in glyph.0.to_be_bytes() {
                hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
            }
        }
        (0..6)
            .map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8))
            .collect()
    }
}
