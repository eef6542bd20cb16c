; Inno Setup 6 script: the Windows installer for Territory Desktop.
;
; Build the one-folder bundle first, on Windows, from the repository root:
;   pyinstaller --noconfirm --distpath dist --workpath build installer\territory-desktop.spec
; then compile this script (the version comes from pyproject.toml, passed on the command line):
;   iscc /DAppVersion=0.1.0 installer\windows\territory-desktop.iss
; which writes dist\TerritoryDesktop-0.1.0-setup.exe. Sign it (and the exe inside the bundle) with
;   signtool sign /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 /a FILE
; The installer adds a Start-menu entry, an optional desktop icon, the .gpkg file association
; ("Open with Territory Desktop"; it does not take over .gpkg files QGIS already owns unless chosen),
; and an uninstaller listed under Settings > Apps, which removes the program and the association.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define AppName "Territory Desktop"
#define AppExe "territory-desktop.exe"
#define ProgId "TerritoryDesktop.Project"

[Setup]
AppId={{6B1D2C7E-4F0A-4E59-9C1B-7E2D8F3A5B10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Territory Desktop contributors
DefaultDirName={autopf}\Territory Desktop
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=TerritoryDesktop-{#AppVersion}-setup
SetupIconFile=..\..\territory_desktop\resources\icons\app\territory-desktop.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName} {#AppVersion}
ChangesAssociations=yes
Compression=lzma2/ultra64
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "gpkgdefault"; Description: "Open .gpkg project files with Territory Desktop by default"; GroupDescription: "File association:"; Flags: unchecked

[Files]
Source: "..\..\dist\territory-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Sales territory planning on a map"
Name: "{autoprograms}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; the ProgID: icon and the open verb (the `gui` subcommand opens the project given as its argument)
Root: HKA; Subkey: "Software\Classes\{#ProgId}"; ValueType: string; ValueName: ""; ValueData: "Territory Desktop project"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\{#ProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" gui ""%1"""
; .gpkg lists Territory Desktop under "Open with"; the default handler only when the task is chosen
Root: HKA; Subkey: "Software\Classes\.gpkg\OpenWithProgids"; ValueType: string; ValueName: "{#ProgId}"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.gpkg"; ValueType: string; ValueName: ""; ValueData: "{#ProgId}"; Flags: uninsdeletevalue; Tasks: gpkgdefault
Root: HKA; Subkey: "Software\Classes\.gpkg"; ValueType: string; ValueName: "Content Type"; ValueData: "application/geopackage+sqlite3"; Flags: uninsdeletevalue createvalueifdoesntexist
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".gpkg"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: filesandordirs; Name: "{app}"
