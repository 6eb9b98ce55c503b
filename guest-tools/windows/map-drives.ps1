<#
.SYNOPSIS
  vmdesk: map each drive the RDP client redirects (\\tsclient\NAME) to a
  drive letter, at logon (run by the logon task install.ps1 registers).

.DESCRIPTION
  vmdesk shares host folders as RDP drives named by their letter (vmdesk
  share NAME PATH --as Z): \\tsclient\Z becomes Z:. A share whose name is not
  a single letter goes to the first free letter from Z: down. Letters in use
  by something else are left alone. Logs to %LOCALAPPDATA%\vmdesk\map-drives.log.
#>
Set-StrictMode -Version 3
$ErrorActionPreference = 'Continue'

$logDir = Join-Path $env:LOCALAPPDATA 'vmdesk'
New-Item -ItemType Directory -Force -Path $logDir | Out-Null
$log = Join-Path $logDir 'map-drives.log'

function Write-Log([string]$Message) {
    Add-Content -Path $log -Value ('{0} {1}' -f (Get-Date -Format 's'), $Message)
}

# The redirected drives appear a few seconds after logon.
$shares = @()
for ($i = 0; $i -lt 15 -and $shares.Count -eq 0; $i++) {
    $shares = @(Get-ChildItem -Path '\\tsclient' -ErrorAction SilentlyContinue |
        ForEach-Object { $_.Name })
    if ($shares.Count -eq 0) {
        Start-Sleep -Seconds 2
    }
}

$used = @(Get-PSDrive -PSProvider FileSystem | ForEach-Object { $_.Name.ToUpper() })
foreach ($share in $shares) {
    $letter = $null
    if ($share -match '^[A-Za-z]$') {
        $letter = $share.ToUpper()
    } else {
        $letter = [char[]]('ZYXWVUTSRQPONMLKJIHGFED') |
            ForEach-Object { [string]$_ } |
            Where-Object { $used -notcontains $_ } |
            Select-Object -First 1
    }
    if ($null -eq $letter) {
        Write-Log "no free letter for \\tsclient\$share"
        continue
    }
    $target = "\\tsclient\$share"
    $existing = Get-PSDrive -Name $letter -ErrorAction SilentlyContinue
    if ($existing) {
        if ($existing.DisplayRoot -eq $target) {
            continue
        }
        Write-Log "${letter}: is in use ($($existing.Root)); \\tsclient\$share not mapped"
        continue
    }
    & net.exe use "${letter}:" $target /persistent:no | Out-Null
    if ($LASTEXITCODE -eq 0) {
        Write-Log "mapped ${letter}: to $target"
        $used += $letter
    } else {
        Write-Log "net use ${letter}: $target failed ($LASTEXITCODE)"
    }
}
