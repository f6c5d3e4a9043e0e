# The machine owner's commands for Arc remote support on this node (see ArcRemoteSupport.psm1).
@{
    RootModule           = 'ArcRemoteSupport.psm1'
    ModuleVersion        = '1.0.0'
    GUID                 = '285104e3-4161-4b9e-9431-53f4652aa278'
    Author               = 'arc-remote-support'
    Description          = 'Shows the remote support access in force and its history, and revokes it locally without Azure.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FunctionsToExport    = @('Get-RemoteSupportAccess', 'Get-RemoteSupportSessionHistory', 'Get-RemoteSupportLogCollectionHistory', 'Disable-RemoteSupport')
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
}
