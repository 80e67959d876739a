/// Numbers of the standard attributes Ratel reads or writes itself (RFC 2865, 2866, 2869, 3579,
/// 5176; draft-sterman-aaa-sip for 206 and 207). Everything else is named by the dictionaries.
public enum AttributeType {
    public static let userName: UInt8 = 1
    public static let userPassword: UInt8 = 2
    public static let chapPassword: UInt8 = 3
    public static let nasIPAddress: UInt8 = 4
    public static let nasPort: UInt8 = 5
    public static let serviceType: UInt8 = 6
    public static let replyMessage: UInt8 = 18
    public static let state: UInt8 = 24
    public static let `class`: UInt8 = 25
    public static let vendorSpecific: UInt8 = 26
    public static let sessionTimeout: UInt8 = 27
    public static let calledStationId: UInt8 = 30
    public static let callingStationId: UInt8 = 31
    public static let nasIdentifier: UInt8 = 32
    public static let proxyState: UInt8 = 33
    public static let acctStatusType: UInt8 = 40
    public static let acctDelayTime: UInt8 = 41
    public static let acctSessionId: UInt8 = 44
    public static let acctSessionTime: UInt8 = 46
    public static let acctTerminateCause: UInt8 = 49
    public static let eventTimestamp: UInt8 = 55
    public static let chapChallenge: UInt8 = 60
    public static let eapMessage: UInt8 = 79
    public static let messageAuthenticator: UInt8 = 80
    public static let nasIPv6Address: UInt8 = 95
    public static let errorCause: UInt8 = 101
    public static let digestResponse: UInt8 = 206
    public static let digestAttributes: UInt8 = 207
}
