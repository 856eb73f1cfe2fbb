//! LZF (h5py's filter 32000), decoded in Rust: no library lock, no worker.

use super::CodecError;

/// LZF decompression (liblzf's format, as h5py's lzf filter writes it): a control byte below
/// 32 starts a literal run of ctrl+1 bytes; otherwise a back reference of length
/// (ctrl >> 5) + 2 (7 means one more length byte) at distance ((ctrl & 31) << 8 | next) + 1.
pub fn lzf_decompress(input: &[u8], size_hint: usize) -> Result<Vec<u8>, CodecError> {
    let mut out: Vec<u8> = Vec::with_capacity(size_hint);
    let mut ip = 0usize;
    let byte = |i: usize| input.get(i).copied().ok_or(CodecError::Lzf(i));
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1).ok_or(CodecError::Lzf(ip))?;
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(byte(ip)?);
                ip += 1;
            }
            let distance = ((ctrl & 0x1f) << 8) + usize::from(byte(ip)?) + 1;
            ip += 1;
            let start = out.len().checked_sub(distance).ok_or(CodecError::Lzf(ip))?;
            for k in 0..len + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > size_hint.max(1) * 2 + 64 {
            return Err(CodecError::Lzf(ip));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lzf_literals_and_back_references() {
        // "abcabcabcX": literal "abc", back reference len 6 at distance 3, literal "X"
        let stream = [2, b'a', b'b', b'c', (4 << 5), 2, 0, b'X'];
        assert_eq!(lzf_decompress(&stream, 10).unwrap(), b"abcabcabcX");
        assert!(lzf_decompress(&[0x20, 5], 10).is_err()); // reference before the start
        assert!(lzf_decompress(&[5, b'a'], 10).is_err()); // literal past the end
    }
}
