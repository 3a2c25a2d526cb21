/** The auto-fill marker's UI text: zh-CN (default) and English. */
export const fillSourceStrings = {
  'zh-CN': {
    fromLicence: (type: string) => `来自${type}`,
    fromIdentity: '来自实名身份',
    edited: '已修改',
    editedFrom: (from: string) => `已修改（原值${from}）`,
    licenceDetail: (type: string, number: string, issuer: string, status: string) =>
      `自动填充自证照库：${type}，编号 ${number}，颁发机构 ${issuer}，状态：${status}`,
    identityDetail: '自动填充自您登录时核验的实名身份',
    editedHint: '您已修改此项，提交的是您填写的内容',
    status: { valid: '有效', revoked: '已吊销', expired: '已过期', 'not-yet-valid': '尚未生效' } as Record<
      string,
      string
    >,
  },
  en: {
    fromLicence: (type: string) => `From ${type}`,
    fromIdentity: 'From your verified identity',
    edited: 'Edited',
    editedFrom: (from: string) => `Edited (was ${from.charAt(0).toLowerCase()}${from.slice(1)})`,
    licenceDetail: (type: string, number: string, issuer: string, status: string) =>
      `Filled from the licence registry: ${type}, number ${number}, issued by ${issuer}, status: ${status}`,
    identityDetail: 'Filled from the identity verified when you signed in',
    editedHint: 'You changed this value; what you entered is submitted',
    status: {
      valid: 'valid',
      revoked: 'revoked',
      expired: 'expired',
      'not-yet-valid': 'not yet valid',
    } as Record<string, string>,
  },
};
