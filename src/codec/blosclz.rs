//! BloscLZ, Blosc's own LZ77 codec (FastLZ's format with a longer reach), decoded in Rust.
//! A control byte below 32 starts a literal run of ctrl+1 bytes; otherwise a match of
//! (ctrl >> 5) + 2 bytes (7: more length bytes follow, each added, until one is not 255) at
//! distance ((ctrl & 31) << 8 | next byte) + 1, or — when that is 31 << 8 | 255 — a 16-bit
//! big-endian distance beyond 8191. (c-blosc's `blosclz_decompress`.)

use super::CodecError;

const MAX_DISTANCE: usize = 8191;

/// Decode one BloscLZ stream into `dst`, which it must fill exactly.
pub fn blosclz_decompress(input: &[u8], dst: &mut [u8]) -> Result<(), CodecError> {
    let bad = |at: usize| CodecError::Blosc(format!("BloscLZ stream is corrupt at byte {at}"));
    let mut ip = 0usize;
    let mut op = 0usize;
    let next = |ip: &mut usize| -> Result<usize, CodecError> {
        let b = input.get(*ip).copied().ok_or_else(|| bad(*ip))?;
        *ip += 1;
        Ok(usize::from(b))
    };
    let mut ctrl = next(&mut ip)? & 31;
    loop {
        if ctrl >= 32 {
            let mut len = (ctrl >> 5) - 1;
            let mut ofs = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    let code = next(&mut ip)?;
                    len += code;
                    if code != 255 {
                        break;
                    }
                }
            }
            let code = next(&mut ip)?;
            let mut distance = ofs + code + 1;
            if code == 255 && ofs == 31 << 8 {
                ofs = next(&mut ip)? << 8;
                ofs += next(&mut ip)?;
                distance = ofs + MAX_DISTANCE + 1;
            }
            let len = len + 3;
            let start = op.checked_sub(distance).ok_or_else(|| bad(ip))?;
            if op + len > dst.len() {
                return Err(bad(ip));
            }
            // byte by byte: a match may overlap what it writes (a run when distance is 1)
            for k in 0..len {
                dst[op + k] = dst[start + k];
            }
            op += len;
        } else {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run).ok_or_else(|| bad(ip))?;
            dst.get_mut(op..op + run).ok_or_else(|| bad(ip))?.copy_from_slice(lit);
            op += run;
            ip += run;
        }
        if ip >= input.len() {
            break;
        }
        ctrl = next(&mut ip)?;
    }
    if op != dst.len() {
        return Err(CodecError::Length { got: op, expected: dst.len() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_runs_and_matches() {
        // "abc", then a match of 6 at distance 3, then a run of 4 at distance 1, then "X"
        let stream = [2, b'a', b'b', b'c', (4 << 5), 2, (2 << 5), 0, 0, b'X'];
        let mut out = vec![0u8; 14];
        blosclz_decompress(&stream, &mut out).unwrap();
        assert_eq!(&out, b"abcabcabcccccX");
        let mut short = vec![0u8; 13];
        assert!(blosclz_decompress(&stream, &mut short).is_err());
        let mut out = vec![0u8; 14];
        assert!(blosclz_decompress(&[0x20, 5], &mut out).is_err()); // before the start
        assert!(blosclz_decompress(&[5, b'a'], &mut out).is_err()); // literal cut short
    }
}
