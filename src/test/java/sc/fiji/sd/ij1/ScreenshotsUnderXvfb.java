package sc.fiji.sd.ij1;

import java.awt.EventQueue;
import java.awt.Rectangle;
import java.awt.Robot;
import java.awt.TextField;
import java.awt.Toolkit;
import java.awt.event.ActionEvent;
import java.io.File;

import javax.imageio.ImageIO;

import ij.IJ;
import ij.ImageJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import sc.fiji.sd.imagej.Settings;

/**
 * Takes the README screenshots in a real ImageJ 1.x under Xvfb: the Text to Image dialog filled in as a user would,
 * then the result window with its Info. Run by {@code tools/screenshots/screenshots.sh}; not a test.
 */
public final class ScreenshotsUnderXvfb {

	public static void main(String[] args) throws Exception {
		String model = args[0];
		File out = new File(args[1]);
		new ImageJ(); // loads IJ_Prefs.txt: choose the model after that
		new Settings(model, "cpu", 0).save();
		IJ.wait(1500);
		Thread user = new Thread(() -> new TextToImagePlugin().run(""), "Text to Image...");
		user.start();
		GenericDialog gd = RecordingUnderXvfb.waitForDialog();
		DialogFields.after(gd, "Prompt", TextField.class).setText("a red circle on a blue background");
		DialogFields.after(gd, "Negative prompt", TextField.class).setText("blurry");
		DialogFields.after(gd, "Seed", TextField.class).setText("42");
		DialogFields.after(gd, "Width", TextField.class).setText("64"); // the shipped model's size
		DialogFields.after(gd, "Height", TextField.class).setText("64");
		EventQueue.invokeAndWait(() -> gd.setLocation(0, 0));
		IJ.wait(800);
		capture(new File(out, "dialog.png"), gd.getBounds()); // the dialog alone: it is taller than ImageJ's window is wide
		EventQueue.invokeAndWait(() -> gd.actionPerformed(new ActionEvent(gd.getButtons()[0],
			ActionEvent.ACTION_PERFORMED, "OK")));
		user.join(300_000);
		ImagePlus result = WindowManager.getCurrentImage();
		IJ.run(result, "Show Info...", "");
		IJ.wait(800);
		result.getWindow().toFront();
		IJ.run(result, "Set... ", "zoom=400 x=32 y=32");
		java.awt.Frame info = null; // the Info window, then the result beside it
		for (java.awt.Window w : WindowManager.getAllNonImageWindows())
			if (w instanceof java.awt.Frame f && f.getTitle().startsWith("Info for")) info = f;
		if (info != null) info.setLocation(20, 100);
		result.getWindow().setLocation(info == null ? 560 : 40 + info.getWidth(), 140);
		IJ.wait(1500);
		Rectangle shown = IJ.getInstance().getBounds().union(result.getWindow().getBounds()); // no empty screen around
		if (info != null) shown = shown.union(info.getBounds());
		shown.grow(10, 10);
		capture(new File(out, "result.png"), shown.intersection(new Rectangle(Toolkit.getDefaultToolkit()
			.getScreenSize())));
		System.exit(0);
	}

	private static void capture(File file, Rectangle area) throws Exception {
		ImageIO.write(new Robot().createScreenCapture(area), "png", file);
		System.out.println("wrote " + file);
	}
}
