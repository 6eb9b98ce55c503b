<#
.SYNOPSIS
  vmdesk guest tools for Windows 10/11: what vmdesk needs inside the guest.

.DESCRIPTION
  Run as administrator (the answer file runs it at the first logon):
    - Remote Desktop on (fDenyTSConnections=0), its firewall rule group, NLA on;
    - RemoteApp for any installed program (fDisabledAllowList=1 and the
      policy fAllowUnlistedRemotePrograms=1);
    - the virtio drivers (pnputil /add-driver /subdirs /install) and the QEMU
      guest agent MSI from the virtio-win CD, found by its volume label;
    - a logon task mapping each redirected drive \\tsclient\NAME to NAME:
      (map-drives.ps1; a share that is not a letter goes to Z:);
    - a task that resyncs the clock when the host wakes from sleep;
    - no sleep or hibernation in the guest;
    - no automatic logon left over from the answer file (Winlogon
      AutoAdminLogon off, DefaultPassword removed).
  Idempotent: every step checks first and logs only what it changed, to
  C:\ProgramData\vmdesk\tools-install.log. Writes the marker
  C:\ProgramData\vmdesk\tools-installed (and HKLM\SOFTWARE\vmdesk Tools) that
  `vmdesk tools NAME status` reads. -Undo reverts the RemoteApp, task,
  power and marker changes (Remote Desktop and drivers stay: vmdesk needs
  them, and removing drivers in use is not safe).

.PARAMETER Undo
  Revert what can be reverted safely.
#>
[CmdletBinding()]
param(
    [switch]$Undo
)

Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'

$Version = 1
$DataDir = Join-Path $env:ProgramData 'vmdesk'
$Log = Join-Path $DataDir 'tools-install.log'
$Marker = Join-Path $DataDir 'tools-installed'
$MarkerKey = 'HKLM:\SOFTWARE\vmdesk'
$TsKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$RdpTcpKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$AllowListKey = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Terminal Server\TSAppAllowList'
$PolicyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$VirtioLabel = 'virtio-win*'
$MapTask = 'vmdesk map redirected drives'
$TimeTask = 'vmdesk resync time after host sleep'

New-Item -ItemType Directory -Force -Path $DataDir | Out-Null

function Write-Log([string]$Message) {
    $line = '{0} {1}' -f (Get-Date -Format 's'), $Message
    Add-Content -Path $Log -Value $line
    Write-Host "vmdesk-tools: $Message"
}

# Set a registry value when it differs; log the change.
function Set-RegValue([string]$Key, [string]$Name, $Value, [string]$Type = 'DWord') {
    if (-not (Test-Path $Key)) {
        New-Item -Path $Key -Force | Out-Null
    }
    $current = (Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue)
    if ($null -ne $current -and $current.$Name -eq $Value) {
        return
    }
    New-ItemProperty -Path $Key -Name $Name -Value $Value -PropertyType $Type -Force | Out-Null
    Write-Log "set $Key\$Name = $Value"
}

function Remove-RegValue([string]$Key, [string]$Name) {
    if (Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue) {
        Remove-ItemProperty -Path $Key -Name $Name
        Write-Log "removed $Key\$Name"
    }
}

function Remove-TaskIfPresent([string]$Name) {
    if (Get-ScheduledTask -TaskName $Name -ErrorAction SilentlyContinue) {
        Unregister-ScheduledTask -TaskName $Name -Confirm:$false
        Write-Log "removed the scheduled task '$Name'"
    }
}

if ($Undo) {
    Set-RegValue $AllowListKey 'fDisabledAllowList' 0
    Remove-RegValue $PolicyKey 'fAllowUnlistedRemotePrograms'
    Remove-TaskIfPresent $MapTask
    Remove-TaskIfPresent $TimeTask
    & powercfg.exe /hibernate on | Out-Null
    & powercfg.exe /change standby-timeout-ac 30 | Out-Null
    Write-Log 'hibernation and sleep after 30 minutes back on'
    Remove-Item -Path (Join-Path $DataDir 'power-configured') -Force -ErrorAction SilentlyContinue
    if (Test-Path $Marker) {
        Remove-Item -Path $Marker -Force
        Write-Log "removed $Marker"
    }
    Remove-RegValue $MarkerKey 'Tools'
    exit 0
}

# --- Remote Desktop, NLA, firewall -----------------------------------------
Set-RegValue $TsKey 'fDenyTSConnections' 0
Set-RegValue $RdpTcpKey 'UserAuthentication' 1
$rules = Get-NetFirewallRule -Group '@FirewallAPI.dll,-28752' -ErrorAction SilentlyContinue
if ($rules | Where-Object { $_.Enabled -ne 'True' }) {
    Enable-NetFirewallRule -Group '@FirewallAPI.dll,-28752'
    Write-Log 'enabled the Remote Desktop firewall rule group'
}
$svc = Get-Service -Name TermService
if ($svc.StartType -ne 'Automatic') {
    Set-Service -Name TermService -StartupType Automatic
    Write-Log 'TermService starts automatically'
}
if ($svc.Status -ne 'Running') {
    Start-Service -Name TermService
    Write-Log 'started TermService'
}

# --- RemoteApp: any installed program -------------------------------------
Set-RegValue $AllowListKey 'fDisabledAllowList' 1
Set-RegValue $PolicyKey 'fAllowUnlistedRemotePrograms' 1

# --- virtio drivers and the guest agent from the virtio-win CD -------------
$virtio = Get-Volume | Where-Object { $_.FileSystemLabel -like $VirtioLabel -and $_.DriveLetter } |
    Select-Object -First 1
if ($null -eq $virtio) {
    Write-Log 'no virtio-win CD (volume label virtio-win*): drivers and guest agent skipped'
} else {
    $root = '{0}:\' -f $virtio.DriveLetter
    $stamp = Join-Path $DataDir 'virtio-drivers-installed'
    if (-not (Test-Path $stamp)) {
        # pnputil exits non-zero when some INF is not for this Windows: fine.
        & pnputil.exe /add-driver (Join-Path $root '*.inf') /subdirs /install | Add-Content -Path $Log
        Set-Content -Path $stamp -Value $root
        Write-Log "installed the virtio drivers from $root"
    }
    if (-not (Get-Service -Name QEMU-GA -ErrorAction SilentlyContinue)) {
        $msi = Join-Path $root 'guest-agent\qemu-ga-x86_64.msi'
        if (Test-Path $msi) {
            $p = Start-Process -FilePath msiexec.exe -ArgumentList @('/i', "`"$msi`"", '/qn', '/norestart') -Wait -PassThru
            Write-Log "installed the QEMU guest agent ($msi): msiexec exit $($p.ExitCode)"
        } else {
            Write-Log "no $msi on the virtio-win CD: guest agent skipped"
        }
    }
}

# --- redirected drives: \\tsclient\NAME -> NAME: at logon ------------------
$mapScript = Join-Path $DataDir 'map-drives.ps1'
$source = Join-Path $PSScriptRoot 'map-drives.ps1'
if (-not (Test-Path $mapScript) -or
    (Get-FileHash $mapScript).Hash -ne (Get-FileHash $source).Hash) {
    Copy-Item -Path $source -Destination $mapScript -Force
    Write-Log "installed $mapScript"
}
if (-not (Get-ScheduledTask -TaskName $MapTask -ErrorAction SilentlyContinue)) {
    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -WindowStyle Hidden -ExecutionPolicy Bypass -File `"$mapScript`""
    $trigger = New-ScheduledTaskTrigger -AtLogOn
    # As the user who logs on (mapped drives belong to the logon session).
    $principal = New-ScheduledTaskPrincipal -GroupId 'S-1-5-32-545' -RunLevel Limited
    Register-ScheduledTask -TaskName $MapTask -Action $action -Trigger $trigger -Principal $principal | Out-Null
    Write-Log "added the logon task '$MapTask'"
}

# --- time: resync when the host wakes from sleep ---------------------------
$w32 = Get-Service -Name W32Time
if ($w32.StartType -ne 'Automatic') {
    Set-Service -Name W32Time -StartupType Automatic
    Write-Log 'W32Time starts automatically'
}
if ($w32.Status -ne 'Running') {
    Start-Service -Name W32Time
    Write-Log 'started W32Time'
}
if (-not (Get-ScheduledTask -TaskName $TimeTask -ErrorAction SilentlyContinue)) {
    # Event 1 of Microsoft-Windows-Power-Troubleshooter: the system resumed.
    $xml = @"
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <Triggers>
    <EventTrigger>
      <Enabled>true</Enabled>
      <Subscription>&lt;QueryList&gt;&lt;Query Id="0" Path="System"&gt;&lt;Select Path="System"&gt;*[System[Provider[@Name='Microsoft-Windows-Power-Troubleshooter'] and EventID=1]]&lt;/Select&gt;&lt;/Query&gt;&lt;/QueryList&gt;</Subscription>
    </EventTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT5M</ExecutionTimeLimit>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>w32tm.exe</Command>
      <Arguments>/resync /force</Arguments>
    </Exec>
  </Actions>
</Task>
"@
    Register-ScheduledTask -TaskName $TimeTask -Xml $xml | Out-Null
    Write-Log "added the task '$TimeTask' (w32tm /resync on resume)"
}

# --- no sleep or hibernation in the guest ----------------------------------
$powerStamp = Join-Path $DataDir 'power-configured'
if (-not (Test-Path $powerStamp)) {
    & powercfg.exe /hibernate off | Out-Null
    & powercfg.exe /change standby-timeout-ac 0 | Out-Null
    & powercfg.exe /change hibernate-timeout-ac 0 | Out-Null
    & powercfg.exe /change monitor-timeout-ac 0 | Out-Null
    Set-Content -Path $powerStamp -Value 'powercfg: no sleep, no hibernation'
    Write-Log 'turned off sleep, hibernation and the monitor timeout'
}

# --- the answer file's one automatic logon: no password left behind ---------
$winlogon = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon'
Remove-RegValue $winlogon 'DefaultPassword'
if ((Get-ItemProperty -Path $winlogon -Name 'AutoAdminLogon' -ErrorAction SilentlyContinue).AutoAdminLogon -eq '1') {
    Set-RegValue $winlogon 'AutoAdminLogon' '0' 'String'
}

# --- marker -------------------------------------------------------------------
$text = "vmdesk-tools $Version windows"
if (-not (Test-Path $Marker) -or (Get-Content -Path $Marker -TotalCount 1) -ne $text) {
    Set-Content -Path $Marker -Value $text
    Set-RegValue $MarkerKey 'Tools' $Version
    Write-Log "wrote $Marker"
}
Write-Log "done: guest tools version $Version"
