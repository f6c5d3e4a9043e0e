<#
.SYNOPSIS
Decrypts Azure extension protected settings (base64 CMS EnvelopedData) with a certificate from the
My store of the machine (Cert:\LocalMachine\My) or of the current user.

.DESCRIPTION
Windows PowerShell 5.1 compatible. Protocol with the caller (extension/decrypt-powershell.ts):

  stdin   the base64 CMS EnvelopedData (ASCII; surrounding whitespace is ignored).
  exit 0  stdout is exactly the decrypted bytes (UTF-8 JSON text), with nothing added.
  exit 2  stdout is one line of JSON: {"error":"<code>","message":"<reason>"} where code is
          NoCertificate  no certificate with that thumbprint in the store
          NoPrivateKey   the certificate is there but without a private key
          BadData        the input is not base64, or not CMS EnvelopedData
          DecryptFailed  the data is not for this certificate, or the key cannot decrypt it
  other   an unexpected failure; PowerShell's error text is on stderr.

The plaintext is written once, at the end, and only to stdout. Neither the plaintext nor the
ciphertext is ever part of an error: messages come from .NET exceptions, which do not quote data.

.PARAMETER Thumbprint
SHA-1 thumbprint of the certificate, 40 hex digits in any case.

.PARAMETER StoreLocation
LocalMachine (default, where the extension manager installs the certificate) or CurrentUser.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[0-9A-Fa-f]{40}$')]
    [string] $Thumbprint,

    [ValidateSet('LocalMachine', 'CurrentUser')]
    [string] $StoreLocation = 'LocalMachine'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Writes raw UTF-8 (no BOM) to stdout. The PowerShell host would re-encode text with the console
# code page and append newlines; the caller needs the exact bytes.
function Write-StdoutBytes([byte[]] $Bytes) {
    $stdout = [Console]::OpenStandardOutput()
    $stdout.Write($Bytes, 0, $Bytes.Length)
    $stdout.Flush()
}

function Exit-WithError([string] $Code, [string] $Message) {
    if ($Message.Length -gt 300) { $Message = $Message.Substring(0, 297) + '...' }
    $json = ConvertTo-Json -Compress -InputObject ([ordered]@{ error = $Code; message = $Message })
    Write-StdoutBytes ((New-Object System.Text.UTF8Encoding($false)).GetBytes($json + "`n"))
    exit 2
}

# The innermost exception says what went wrong; the outer ones only say a .NET call failed.
function Get-Reason($ErrorRecord) {
    $exception = $ErrorRecord.Exception
    while ($null -ne $exception.InnerException) { $exception = $exception.InnerException }
    return (($exception.Message -replace '\s+', ' ').Trim())
}

# Windows PowerShell 5.1 (.NET Framework) keeps EnvelopedCms in System.Security.dll, which is not
# loaded by default; pwsh (.NET) has it loaded already.
if (-not ('System.Security.Cryptography.Pkcs.EnvelopedCms' -as [type])) {
    Add-Type -AssemblyName System.Security
}

# 1. The input: base64 of DER.
$base64 = [Console]::In.ReadToEnd().Trim()
if ($base64.Length -eq 0) { Exit-WithError 'BadData' 'No input on stdin.' }
try {
    $der = [Convert]::FromBase64String($base64)
}
catch {
    Exit-WithError 'BadData' ('The input is not valid base64: ' + (Get-Reason $_))
}

# 2. The certificate, with its private key, from the My store (what Cert:\<location>\My shows).
$thumb = $Thumbprint.ToUpperInvariant()
$store = New-Object System.Security.Cryptography.X509Certificates.X509Store('My', $StoreLocation)
try {
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly)
    $found = $store.Certificates.Find(
        [System.Security.Cryptography.X509Certificates.X509FindType]::FindByThumbprint, $thumb, $false)
}
catch {
    Exit-WithError 'NoCertificate' ("Cannot open the $StoreLocation\My certificate store: " + (Get-Reason $_))
}
finally {
    $store.Close()
}
if ($found.Count -eq 0) {
    Exit-WithError 'NoCertificate' "No certificate with thumbprint $thumb in $StoreLocation\My."
}
$certificate = $null
foreach ($candidate in $found) {
    if ($candidate.HasPrivateKey) { $certificate = $candidate; break }
}
if ($null -eq $certificate) {
    Exit-WithError 'NoPrivateKey' "The certificate $thumb in $StoreLocation\My has no private key."
}

# 3. The CMS structure.
$cms = New-Object System.Security.Cryptography.Pkcs.EnvelopedCms
try {
    $cms.Decode($der)
}
catch {
    Exit-WithError 'BadData' ('The input is not CMS EnvelopedData: ' + (Get-Reason $_))
}

# 4. Decrypt only the recipient that names this certificate. Decrypt() on its own would use any
# certificate of the My stores that matches some recipient, not necessarily the one we were given.
function Get-HexWithoutLeadingZeros([string] $Hex) {
    $trimmed = $Hex.ToUpperInvariant().TrimStart('0')
    if ($trimmed.Length -eq 0) { return '0' }
    return $trimmed
}
$serial = Get-HexWithoutLeadingZeros $certificate.SerialNumber
$keyId = $null
foreach ($extension in $certificate.Extensions) {
    if ($extension -is [System.Security.Cryptography.X509Certificates.X509SubjectKeyIdentifierExtension]) {
        $keyId = $extension.SubjectKeyIdentifier.ToUpperInvariant()
    }
}
$recipient = $null
foreach ($info in $cms.RecipientInfos) {
    $id = $info.RecipientIdentifier
    if ($id.Type -eq [System.Security.Cryptography.Pkcs.SubjectIdentifierType]::IssuerAndSerialNumber) {
        if ((Get-HexWithoutLeadingZeros $id.Value.SerialNumber) -eq $serial) { $recipient = $info; break }
    }
    elseif ($id.Type -eq [System.Security.Cryptography.Pkcs.SubjectIdentifierType]::SubjectKeyIdentifier) {
        if ($null -ne $keyId -and ([string] $id.Value).ToUpperInvariant() -eq $keyId) { $recipient = $info; break }
    }
}
if ($null -eq $recipient) {
    Exit-WithError 'DecryptFailed' "The data is not encrypted to the certificate $thumb."
}

$candidates = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2Collection
[void] $candidates.Add($certificate)
try {
    $cms.Decrypt($recipient, $candidates)
}
catch {
    Exit-WithError 'DecryptFailed' ('Decryption with the certificate ' + $thumb + ' failed: ' + (Get-Reason $_))
}

Write-StdoutBytes $cms.ContentInfo.Content
exit 0
