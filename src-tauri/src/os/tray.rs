//! The tray icon (Tauri's `tray-icon` feature; on Linux a StatusNotifierItem through libayatana-appindicator, its
//! menu exported over D-Bus): the registration status as a coloured dot on the icon, in the tooltip and as the
//! menu's first (disabled) line — Linux panels show no tooltips for these items — and the quick actions **Show**,
//! **Do not disturb** (incoming calls refused while checked, straight after 100 Trying and without ringing, with
//! 486 Busy Here or 480 Temporarily Unavailable per the app setting, see `settings.rs`) and **Quit**.

use super::{emit, lock, show_window, Os, OsEvent};
use dialtone_core::{Phone, RegistrationState};
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

const SHOW: &str = "show";
const DND: &str = "dnd";
const QUIT: &str = "quit";
/// How long Quit waits for the registrar to confirm the unregistration.
const QUIT_GRACE: Duration = Duration::from_secs(3);

/// The tray icon and the menu items that change.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    status: MenuItem<R>,
    base: Option<Image<'static>>,
}

impl<R: Runtime> Tray<R> {
    /// Puts the icon in the tray.
    pub fn new(app: &AppHandle<R>, phone: Phone) -> tauri::Result<Tray<R>> {
        let status = MenuItem::with_id(app, "status", "Not connected", false, None::<&str>)?;
        let show = MenuItem::with_id(app, SHOW, "Show Dialtone", true, None::<&str>)?;
        let dnd = CheckMenuItem::with_id(app, DND, "Do not disturb", true, false, None::<&str>)?;
        let quit = MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(
            app,
            &[
                &status,
                &PredefinedMenuItem::separator(app)?,
                &show,
                &dnd,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let base = app.default_window_icon().map(|i| i.clone().to_owned());
        let mut builder = TrayIconBuilder::with_id("dialtone")
            .menu(&menu)
            .tooltip("Dialtone — not connected")
            .on_menu_event(move |app, event| on_menu(app, &phone, &dnd, event));
        if let Some(icon) = base.as_ref().map(|b| badge(b, Dot::Off)) {
            builder = builder.icon(icon);
        }
        let icon = builder.build(app)?;
        Ok(Tray { icon, status, base })
    }

    /// Shows a registration state.
    pub fn show_registration(
        &self,
        state: RegistrationState,
        aor: &str,
        code: Option<u16>,
        reason: Option<&str>,
    ) {
        let why = match (code, reason) {
            (Some(c), Some(r)) => format!(": {c} {r}"),
            (Some(c), None) => format!(": {c}"),
            (None, Some(r)) => format!(": {r}"),
            (None, None) => String::new(),
        };
        let (text, dot) = match state {
            RegistrationState::Registering => (format!("Registering {aor}…"), Dot::Busy),
            RegistrationState::Registered => (format!("Registered as {aor}"), Dot::Up),
            RegistrationState::Unregistered => (format!("Not registered ({aor})"), Dot::Off),
            RegistrationState::Failed => (format!("Registration failed{why}"), Dot::Down),
        };
        let _ = self.status.set_text(&text);
        let _ = self.icon.set_tooltip(Some(format!("Dialtone — {text}")));
        if let Some(base) = &self.base {
            let _ = self.icon.set_icon(Some(badge(base, dot)));
        }
    }
}

fn on_menu<R: Runtime>(
    app: &AppHandle<R>,
    phone: &Phone,
    dnd: &CheckMenuItem<R>,
    event: MenuEvent,
) {
    match event.id().as_ref() {
        SHOW => show_window(app),
        DND => {
            // The check mark has already flipped when the click arrives.
            let on = dnd.is_checked().unwrap_or(false);
            let code = on.then(|| super::settings::current(app).dnd_refusal.code());
            let (app, phone, dnd) = (app.clone(), phone.clone(), dnd.clone());
            tauri::async_runtime::spawn(async move {
                match phone.set_do_not_disturb(code).await {
                    Ok(()) => {
                        if let Some(os) = app.try_state::<Os>() {
                            *lock(&os.dnd_on) = on;
                        }
                        emit(&app, OsEvent::DoNotDisturb { on, code });
                    }
                    Err(e) => {
                        let _ = dnd.set_checked(!on);
                        emit(
                            &app,
                            OsEvent::Notice {
                                message: format!("Could not switch do-not-disturb: {e}"),
                            },
                        );
                    }
                }
            });
        }
        QUIT => {
            if let Some(os) = app.try_state::<Os>() {
                os.expect_unregister();
            }
            let (app, phone) = (app.clone(), phone.clone());
            tauri::async_runtime::spawn(async move {
                let _ = tokio::time::timeout(QUIT_GRACE, phone.disconnect()).await;
                app.exit(0);
            });
        }
        _ => {}
    }
}

/// The status dot's colour.
#[derive(Clone, Copy)]
enum Dot {
    Off,
    Busy,
    Up,
    Down,
}

impl Dot {
    fn rgb(self) -> [u8; 3] {
        match self {
            Dot::Off => [0x8a, 0x8f, 0x98],
            Dot::Busy => [0xf2, 0xa9, 0x00],
            Dot::Up => [0x1e, 0xa4, 0x4f],
            Dot::Down => [0xd9, 0x30, 0x25],
        }
    }
}

/// The app icon with a status dot (white-rimmed) in its lower right quarter.
fn badge(base: &Image<'_>, dot: Dot) -> Image<'static> {
    let (w, h) = (base.width() as usize, base.height() as usize);
    let mut rgba = base.rgba().to_vec();
    if rgba.len() != w * h * 4 || w == 0 || h == 0 {
        return Image::new_owned(rgba, base.width(), base.height());
    }
    let r = (w.min(h) as f32) * 0.22;
    let (cx, cy) = (w as f32 - r - 1.0, h as f32 - r - 1.0);
    let rim = (r * 0.18).max(1.0);
    let [dr, dg, db] = dot.rgb();
    for y in 0..h {
        for x in 0..w {
            let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
            let px = &mut rgba[(y * w + x) * 4..(y * w + x) * 4 + 4];
            if d <= r - rim {
                px.copy_from_slice(&[dr, dg, db, 0xff]);
            } else if d <= r {
                px.copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
            }
        }
    }
    Image::new_owned(rgba, base.width(), base.height())
}
