# list-apps.ps1: the applications installed in this Windows system, as JSON
# lines, for `vmdesk apps` (orchestrator/guest/guest_apps.c parses them; the format
# is the one guest-tools/linux/list-apps.sh prints).
#
# vmdesk runs it through the QEMU guest agent without installing it:
#   powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass
#       -Command "iex ([Console]::In.ReadToEnd())"
# with this script as the standard input (guest-exec input-data). The agent
# runs as LocalSystem: "the user" is every profile under C:\Users.
#
# Sources: Start Menu shortcuts (.lnk) of all users and of every profile,
# the App Paths registry key (HKLM), and Store apps (Get-StartApps: AppIDs
# with a "!", started through shell:AppsFolder). Shortcuts to uninstallers,
# help files and web pages are left out. Icons: the target's associated
# icon (System.Drawing.Icon.ExtractAssociatedIcon), saved as PNG in base64.
#
# NOT TESTED: no Windows guest runs in vmdesk's tests (the Linux script and
# the host-side parser are); keep it small and plain.

$ErrorActionPreference = 'SilentlyContinue'
[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false
Add-Type -AssemblyName System.Drawing
$shell = New-Object -ComObject WScript.Shell
$seen = @{}
$count = 0

function IconData([string]$path) {
    try {
        $icon = [System.Drawing.Icon]::ExtractAssociatedIcon($path)
        if (-not $icon) { return $null }
        $bmp = $icon.ToBitmap()
        $ms = New-Object System.IO.MemoryStream
        $bmp.Save($ms, [System.Drawing.Imaging.ImageFormat]::Png)
        return [Convert]::ToBase64String($ms.ToArray())
    } catch { return $null }
}

function Emit([string]$id, [string]$name, [string]$program, [string[]]$arguments,
              [string]$source, [string]$iconPath) {
    if (-not $name -or -not $program) { return }
    $key = $program.ToLowerInvariant() + '|' + ($arguments -join ' ')
    if ($seen.ContainsKey($key)) { return }
    $seen[$key] = $true
    $o = [ordered]@{ id = $id; name = $name; program = $program; args = @($arguments);
                     exec = @($program) + @($arguments); 'mime-types' = @(); categories = @();
                     source = $source }
    if ($iconPath -and (Test-Path -LiteralPath $iconPath)) {
        $data = IconData $iconPath
        if ($data) { $o['icon'] = $iconPath; $o['icon-data'] = $data }
    }
    [Console]::Out.Write((ConvertTo-Json -InputObject $o -Compress -Depth 3) + "`n")
    $script:count++
}

[Console]::Out.Write('{"vmdesk-list-apps":1,"os":"windows"}' + "`n")

$menus = @("$env:ProgramData\Microsoft\Windows\Start Menu\Programs")
Get-ChildItem -Directory 'C:\Users' | ForEach-Object {
    $menus += Join-Path $_.FullName 'AppData\Roaming\Microsoft\Windows\Start Menu\Programs'
}
foreach ($menu in $menus) {
    Get-ChildItem -LiteralPath $menu -Recurse -Filter *.lnk | ForEach-Object {
        $lnk = $shell.CreateShortcut($_.FullName)
        $target = $lnk.TargetPath
        if (-not $target -or -not $target.ToLowerInvariant().EndsWith('.exe')) { return }
        if ($_.BaseName -match '(?i)uninstall|remove|readme|help|website') { return }
        $arguments = @()
        if ($lnk.Arguments) { $arguments = @($lnk.Arguments) }
        Emit $_.BaseName $_.BaseName $target $arguments $_.FullName $target
    }
}

$appPaths = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths'
Get-ChildItem $appPaths | ForEach-Object {
    $exe = $_.GetValue('')
    if (-not $exe) { return }
    $exe = $exe.Trim('"')
    if (-not (Test-Path -LiteralPath $exe)) { return }
    $name = [System.IO.Path]::GetFileNameWithoutExtension($_.PSChildName)
    $desc = (Get-Item -LiteralPath $exe).VersionInfo.FileDescription
    if ($desc) { $name = $desc }
    Emit $_.PSChildName $name $exe @() $_.Name $exe
}

if (Get-Command Get-StartApps) {
    Get-StartApps | Where-Object { $_.AppID -like '*!*' } | ForEach-Object {
        Emit $_.AppID $_.Name ('shell:AppsFolder\' + $_.AppID) @() 'Get-StartApps' $null
    }
}

[Console]::Out.Write('{"end":' + $count + "}`n")
