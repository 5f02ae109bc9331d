use std::path::PathBuf;

/// Everything the vault can refuse. Messages are for a Chinese-speaking operator and never carry
/// key material or plaintext: they end up in logs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("未知的加密套件「{0}」：只能是 intl（AES-256-GCM、HMAC-SHA-256）或 sm（SM4-GCM、HMAC-SM3）")]
    UnknownSuite(String),

    #[error("主密钥格式不对：应为一行 64 个十六进制字符（32 字节）")]
    BadMasterKey,

    #[error("主密钥文件 {path} 的权限是 {mode:04o}，同组或其他用户也能访问；请执行 chmod 600 后再启动")]
    KeyFileTooOpen { path: PathBuf, mode: u32 },

    #[error("主密钥文件 {0} 已经存在，不会覆盖：覆盖后用旧主密钥包裹的数据密钥将再也解不开")]
    KeyFileExists(PathBuf),

    #[error("读写主密钥文件 {path} 失败：{source}")]
    KeyFileIo { path: PathBuf, source: std::io::Error },

    #[error("操作系统的随机数源不可用：{0}")]
    Random(getrandom::Error),

    #[error("包裹的数据密钥 {id} 无法解开：主密钥不对，或它属于另一个编号、套件或用途，或已被改动")]
    WrappedKeyRejected { id: u32 },

    #[error("数据密钥 {id} 的用途是「{actual}」，这里需要「{expected}」")]
    WrongPurpose { id: u32, expected: &'static str, actual: &'static str },

    #[error("数据密钥编号 {0} 重复：一个编号只能对应一把密钥")]
    DuplicateKeyId(u32),

    #[error("找不到编号为 {0} 的数据密钥：该值是用一把未加载的密钥加密的")]
    UnknownKey(u32),

    #[error("不是本系统的密文格式")]
    Malformed,

    #[error("密文校验失败：值被改动过、属于另一个字段，或密钥不对")]
    Unauthentic,

    #[error("解密后的内容不是 UTF-8 文本")]
    NotText,

    #[error("加密失败：内容过长")]
    TooLong,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Fills `buf` from the operating system; every key and nonce comes from here.
pub(crate) fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(Error::Random)
}
